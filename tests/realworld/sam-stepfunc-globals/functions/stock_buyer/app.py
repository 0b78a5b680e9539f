from pydantic import BaseModel


class Transaction(BaseModel):
    type: str
    price: int
    quantity: int = 1


def lambda_handler(event, context):
    """Buys the stock, validating the order first."""
    transaction = Transaction(type="buy", price=event.get("stock_price", 0))
    return transaction.model_dump()
