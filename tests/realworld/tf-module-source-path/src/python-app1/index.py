import colorful


def lambda_handler(event, context):
    """Colours the message for a terminal log; the JSON encoder is loaded on first use."""
    import orjson

    message = str(colorful.bold(event.get("message", "hello")))
    return orjson.loads(orjson.dumps({"message": message, "plain": event.get("message", "hello")}))
