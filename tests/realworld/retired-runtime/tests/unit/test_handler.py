from hello_world import app


def test_lambda_handler():
    response = app.lambda_handler({}, None)
    assert response["statusCode"] == 200
