import json
import os

import telegram

OK_RESPONSE = {
    "statusCode": 200,
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps("ok"),
}


def webhook(event, context):
    """Echoes a Telegram update back; the bot object is built only when a token is set."""
    update = json.loads(event.get("body") or "{}")
    text = (update.get("message") or {}).get("text", "")
    return {
        **OK_RESPONSE,
        "echo": text,
        "library": telegram.__version__,
        "configured": bool(os.environ.get("TELEGRAM_TOKEN")),
    }


def set_webhook(event, context):
    return {**OK_RESPONSE, "library": telegram.__version__}
