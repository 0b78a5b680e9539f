from datetime import datetime, timezone

from dateutil import parser


def make_todo(todo_id, text, when=None):
    created = parser.isoparse(when) if when else datetime(2024, 1, 1, tzinfo=timezone.utc)
    return {"todo_id": todo_id, "text": text, "checked": False, "created_at": created.isoformat()}
