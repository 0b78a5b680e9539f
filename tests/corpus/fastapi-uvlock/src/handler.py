"""Corpus case fastapi-uvlock: the handler imports every top-level module the set ships."""

from __future__ import annotations

import annotated_types
import anyio
import dotenv
import fastapi
import idna
import mangum
import pydantic
import pydantic_core
import pydantic_settings
import sniffio
import starlette
import typing_extensions
import typing_inspection


class Settings(pydantic_settings.BaseSettings):
    service: str = "corpus"


class Context:
    aws_request_id = "corpus"


app = fastapi.FastAPI()


@app.get("/items/{item}")
def read_item(item: int) -> dict[str, object]:
    return {"item": item, "service": Settings().service}


asgi_handler = mangum.Mangum(app, lifespan="off")

MODULES = (
    annotated_types,
    anyio,
    dotenv,
    fastapi,
    idna,
    mangum,
    pydantic,
    pydantic_core,
    pydantic_settings,
    sniffio,
    starlette,
    typing_extensions,
    typing_inspection,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    response = asgi_handler(
        {
            "version": "2.0",
            "routeKey": "GET /items/{item}",
            "rawPath": "/items/7",
            "rawQueryString": "",
            "headers": {"host": "example.com"},
            "requestContext": {
                "http": {"method": "GET", "path": "/items/7", "sourceIp": "1.2.3.4"},
                "stage": "$default",
            },
            "isBase64Encoded": False,
        },
        Context(),
    )
    return {
        "ok": True,
        "checks": {
            "status": response["statusCode"] == 200,
            "body": response["body"] == '{"item":7,"service":"corpus"}',
        },
    }
