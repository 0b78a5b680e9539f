"""The small fixture: a handler and one pure-Python dependency."""

import attrs


@attrs.frozen
class Greeting:
    name: str

    def text(self) -> str:
        return f"hello {self.name}"


def handler(event, context):
    return {"statusCode": 200, "body": Greeting(event.get("name", "world")).text()}
