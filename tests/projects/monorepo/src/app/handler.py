import idna
import shared


def handler(event, context):
    return {"ok": True, "greeting": shared.greet("lambda"), "idna": idna.__version__}
