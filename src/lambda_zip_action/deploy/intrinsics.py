"""CloudFormation's intrinsic functions, as far as a template resolves them on its own: `Ref`
to a Parameter's Default, `Fn::Sub` over such parameters (and its own variables),
`Fn::FindInMap` over the template's Mappings, `Fn::Join`, `Fn::Select` and `Fn::If` whose
condition is fixed. Everything else (resources, pseudo parameters, imports) is known only
at deploy time: None, for the reader to refuse where it needs the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambda_zip_action.deploy.source import Budget

_SUB = re.compile(r"\$\{([^}!]+)\}")


def intrinsic(value: Any) -> bool:
    """Whether `value` is an intrinsic function (`{"Ref": ...}`, `{"Fn::Sub": ...}`)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    [key] = value
    return key in ("Ref", "Condition") or str(key).startswith("Fn::")


def describe(value: Any) -> str:
    """`!Ref Stage`, `!GetAtt ...`: how the template wrote a value it cannot resolve."""
    if not intrinsic(value):
        return repr(value)[:60]
    [(key, argument)] = value.items()
    name = "!" + str(key).removeprefix("Fn::")
    shown = argument if isinstance(argument, str) else "..."
    return f"{name} {shown}"[:80]


class Values:
    """Resolves the values a template may write with intrinsic functions."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.budget = Budget("the template's intrinsic functions")
        parameters = data.get("Parameters")
        self.parameters = {
            name: spec.get("Default")
            for name, spec in (parameters.items() if isinstance(parameters, Mapping) else ())
            if isinstance(spec, Mapping) and spec.get("Default") is not None
        }
        mappings = data.get("Mappings")
        self.mappings = mappings if isinstance(mappings, Mapping) else {}

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """The plain value, or None when it depends on something known only at deploy time."""
        self.budget.spend(value)
        if isinstance(value, list):
            items = [self.resolve(item, depth + 1) for item in value]
            return None if any(item is None for item in items) else items
        if not intrinsic(value) or depth > 20:
            return None if depth > 20 else value
        [(key, argument)] = value.items()
        if key == "Ref":
            return self.parameters.get(str(argument))
        if key == "Fn::Sub":
            return self._sub(argument, depth)
        parts = self.resolve(argument, depth + 1)
        return self._over(key, parts) if isinstance(parts, list) else None

    def _over(self, key: str, parts: list[Any]) -> Any:
        if key == "Fn::FindInMap" and len(parts) == 3:
            table = self.mappings.get(parts[0]) if isinstance(parts[0], str) else None
            row = table.get(parts[1]) if isinstance(table, Mapping) else None
            return row.get(parts[2]) if isinstance(row, Mapping) else None
        if key == "Fn::Join" and len(parts) == 2 and isinstance(parts[1], list):
            return str(parts[0]).join(str(part) for part in parts[1])
        if key == "Fn::Select" and len(parts) == 2 and isinstance(parts[1], list):
            index = int(parts[0]) if str(parts[0]).isdigit() else len(parts[1])
            return parts[1][index] if index < len(parts[1]) else None
        return None

    def _sub(self, argument: Any, depth: int) -> str | None:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2:
            argument, variables = argument
            if not isinstance(variables, Mapping):
                return None
        if not isinstance(argument, str):
            return None
        missing: list[str] = []

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            found = (
                self.resolve(variables[name], depth + 1)
                if name in variables
                else self.parameters.get(name)
            )
            if found is None or isinstance(found, Mapping | list):
                missing.append(name)
                return ""
            return str(found)

        text = _SUB.sub(substitute, argument)
        return None if missing else text.replace("${!", "${")
