"""Corpus case pandas: the handler imports every top-level module the set ships."""

from __future__ import annotations

import dateutil
import dateutil.parser
import numpy
import pandas
import pytz
import six
import tzdata

MODULES = (
    dateutil,
    numpy,
    pandas,
    pytz,
    six,
    tzdata,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    frame = pandas.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]})
    matrix = numpy.arange(4.0).reshape(2, 2)
    when = pandas.Timestamp("2025-01-01", tz="Europe/Paris")
    return {
        "ok": True,
        "checks": {
            "sum": int(frame["a"].sum()) == 6,
            "mean": float(frame["b"].mean()) == 5.0,
            "blas": (matrix @ matrix).tolist() == [[2.0, 3.0], [6.0, 11.0]],
            "tz": when.utcoffset().total_seconds() == 3600,
            "dateutil": dateutil.parser.isoparse("2025-01-01").year == 2025,
        },
    }
