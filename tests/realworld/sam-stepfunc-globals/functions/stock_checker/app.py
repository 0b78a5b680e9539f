import attrs


@attrs.frozen
class Quote:
    symbol: str
    price: int


def lambda_handler(event, context):
    """Checks the price of a stock (a fixed one here)."""
    quote = Quote(symbol=event.get("symbol", "AMZN"), price=42)
    return {"stock_price": quote.price, "symbol": quote.symbol}
