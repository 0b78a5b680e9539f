"""Corpus case flask-poetry: the handler imports every top-level module the set ships."""

from __future__ import annotations

import blinker
import click
import flask
import itsdangerous
import jinja2
import markupsafe
import serverless_wsgi
import werkzeug

app = flask.Flask(__name__)


@app.route("/hello/<name>")
def hello(name: str) -> str:
    return flask.render_template_string("<b>hello {{ name }}</b>", name=name)


MODULES = (
    blinker,
    click,
    flask,
    itsdangerous,
    jinja2,
    markupsafe,
    serverless_wsgi,
    werkzeug,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    response = serverless_wsgi.handle_request(
        app,
        {
            "httpMethod": "GET",
            "path": "/hello/corpus",
            "headers": {"Host": "example.com"},
            "queryStringParameters": None,
            "body": None,
            "isBase64Encoded": False,
            "requestContext": {"stage": "prod"},
        },
        None,
    )
    return {
        "ok": True,
        "checks": {
            "status": response["statusCode"] == 200,
            "body": response["body"] == "<b>hello corpus</b>",
        },
    }
