from app import handler


def test_handler_encodes_the_host() -> None:
    assert handler({"host": "bücher.example"}, None)["ascii"] == "xn--bcher-kva.example"
