import json

import requests


def lambda_handler(event, context):
    """Answers API Gateway with the version of the HTTP client it would use."""
    session = requests.Session()
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "message": "hello world",
                "requests": requests.__version__,
                "adapters": sorted(session.adapters),
            }
        ),
    }
