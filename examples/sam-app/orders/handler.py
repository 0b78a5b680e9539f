"""Reads an order's date the way the client wrote it."""

import os

from dateutil import parser


def handle(event, context):
    placed = parser.isoparse(event["placed"])
    return {"table": os.environ.get("TABLE_NAME", ""), "weekday": placed.strftime("%A")}
