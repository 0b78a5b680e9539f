import json

import six
import yaml


def lambda_handler(event, context):
    """Reads a YAML document from the request body, with the C loader when the layer has it."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(event.get("body") or "greeting: hello", Loader=loader)
    return {
        "statusCode": 200,
        "body": json.dumps(document),
        "libyaml": loader is not yaml.SafeLoader,
        "six": six.PY3,
    }
