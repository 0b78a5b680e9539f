import jwt


def handler(event, context):
    return {"ok": True, "jwt": jwt.__name__}
