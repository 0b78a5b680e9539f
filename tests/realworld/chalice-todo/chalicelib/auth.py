import datetime

import jwt


def get_jwt_token(username, secret):
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return jwt.encode({"sub": username, "iat": now}, secret, algorithm="HS256")


def decode_jwt_token(token, secret):
    return jwt.decode(token, secret, algorithms=["HS256"], options={"verify_iat": False})
