import lambda_function


def test_names():
    assert lambda_function.lambda_handler({"Records": [{"name": "a"}]}, None)["names"] == ["a"]
