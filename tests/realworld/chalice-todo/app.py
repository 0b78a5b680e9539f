from chalice import Chalice
from chalicelib import auth

app = Chalice(app_name="mytodo")


@app.route("/login", methods=["POST"])
def login():
    body = app.current_request.json_body or {}
    return {"token": auth.get_jwt_token(body.get("username", "demo"), "not-a-real-key")}


@app.route("/todos", methods=["GET"])
def get_todos():
    return []
