def hello(event, context):
    """Escapes the name for HTML; markupsafe's native speedups are loaded on first use."""
    from markupsafe import escape

    return {"status": 200, "body": str(escape(event.get("name", "<world>")))}
