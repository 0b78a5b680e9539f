from datetime import datetime, timezone


def lambda_handler(event, context):
    """Sells the stock; the JSON encoder is loaded on first use, not at cold start."""
    import orjson

    transaction = {
        "type": "sell",
        "price": event.get("stock_price", 0),
        "at": datetime(2024, 1, 1, tzinfo=timezone.utc),
    }
    return orjson.loads(orjson.dumps(transaction))
