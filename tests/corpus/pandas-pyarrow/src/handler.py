"""Corpus case pandas-pyarrow: the handler imports every top-level module the set ships."""

from __future__ import annotations

import io

import dateutil
import numpy
import pandas
import pyarrow
import pyarrow.parquet
import pytz
import six
import tzdata

MODULES = (
    dateutil,
    numpy,
    pandas,
    pyarrow,
    pytz,
    six,
    tzdata,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    frame = pandas.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow")
    back = pandas.read_parquet(io.BytesIO(buffer.getvalue()), engine="pyarrow")
    table = pyarrow.parquet.read_table(io.BytesIO(buffer.getvalue()))
    return {
        "ok": True,
        "checks": {
            "roundtrip": back.equals(frame),
            "rows": table.num_rows == 3,
        },
    }
