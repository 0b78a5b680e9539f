"""A Lambda function in the top-level layout: app.py beside requirements.txt, no src/."""

import idna


def handler(event, context):
    host = event.get("host", "bücher.example")
    return {"ok": True, "ascii": idna.encode(host).decode()}
