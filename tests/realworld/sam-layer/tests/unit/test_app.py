from src import app


def test_reads_yaml():
    assert app.lambda_handler({"body": "a: 1"}, None)["statusCode"] == 200
