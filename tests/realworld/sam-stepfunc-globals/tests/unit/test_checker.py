from functions.stock_checker import app


def test_checker():
    assert app.lambda_handler({}, None)["stock_price"] == 42
