"""GET /hello: says hello, and which requests library it was packaged with."""

import json

import requests


def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps({"message": "hello", "requests": requests.__version__}),
    }
