"""Corpus case sqlalchemy-psycopg2: the handler imports every top-level module the set ships."""

from __future__ import annotations

import greenlet
import psycopg2
import psycopg2.extensions
import sqlalchemy
import typing_extensions
from sqlalchemy.util._has_cy import HAS_CYEXTENSION

MODULES = (
    greenlet,
    psycopg2,
    sqlalchemy,
    typing_extensions,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as connection:
        one = connection.execute(sqlalchemy.text("select 1")).scalar()
    postgres = sqlalchemy.create_engine("postgresql+psycopg2://user:pw@localhost/db")
    return {
        "ok": True,
        "checks": {
            "sqlite": one == 1,
            "cython": HAS_CYEXTENSION,
            "dialect": postgres.dialect.driver == "psycopg2",
            "libpq": psycopg2.extensions.libpq_version() > 100000,
            "greenlet": greenlet.greenlet(lambda: 5).switch() == 5,
        },
    }
