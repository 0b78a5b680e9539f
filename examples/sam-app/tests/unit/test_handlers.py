import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[2] / "hello"), str(Path(__file__).parents[2] / "orders")]

import app  # noqa: E402
import handler  # noqa: E402


def test_hello():
    assert json.loads(app.lambda_handler({}, None)["body"])["message"] == "hello"


def test_orders():
    assert handler.handle({"placed": "2026-12-05T10:00:00+00:00"}, None)["weekday"] == "Saturday"
