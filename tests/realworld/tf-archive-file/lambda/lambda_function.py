import json
from urllib.parse import parse_qs


def lambda_handler(event, context):
    """Greets whoever the query string names."""
    query = parse_qs(event.get("rawQueryString", ""))
    name = (query.get("name") or ["world"])[0]
    return {"statusCode": 200, "body": json.dumps({"greeting": f"hello {name}"})}
