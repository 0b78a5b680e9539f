def myfunc(event=None, context=None):
    """Runs on the schedule set in zappa_settings.json."""
    return {"ran": True}
