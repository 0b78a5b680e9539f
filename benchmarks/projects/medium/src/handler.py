"""The medium fixture: a typical API handler (HTTP client, models, logging, YAML config)."""

import requests
import yaml
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger(service="bench")
app = APIGatewayRestResolver()
SETTINGS = yaml.safe_load("upstream: https://example.com\ntimeout: 3\n")
SESSION = requests.Session()


class Order(BaseModel):
    id: int
    item: str = Field(min_length=1)
    quantity: int = Field(gt=0)


@app.post("/orders")
def create_order() -> dict:
    order = Order.model_validate(app.current_event.json_body)
    return {"id": order.id, "upstream": SETTINGS["upstream"]}


def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
