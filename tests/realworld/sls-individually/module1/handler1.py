import six


def hello(event, context):
    """Parses a YAML body; the parser (native on arm64) is loaded on first use."""
    import yaml

    return {"status": 200, "body": yaml.safe_load(event.get("body") or "a: 1"), "py3": six.PY3}
