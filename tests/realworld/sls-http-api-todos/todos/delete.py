import json

from todos.todo_model import make_todo


def delete(event, context):
    params = event.get("pathParameters") or {}
    todo = make_todo(params.get("id") or params.get("todo_id") or "1", "delete", event.get("when"))
    return {"statusCode": 200, "body": json.dumps({"action": "delete", "todo": todo})}
