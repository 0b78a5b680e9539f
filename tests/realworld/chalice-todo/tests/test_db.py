from chalicelib import auth


def test_round_trip():
    token = auth.get_jwt_token("u", "k")
    assert auth.decode_jwt_token(token, "k")["sub"] == "u"
