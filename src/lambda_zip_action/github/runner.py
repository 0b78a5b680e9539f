"""What the Actions runner gives the action and takes from it, through actions-toolkit.

Given: the event payload (`GITHUB_EVENT_PATH`) and its pull request. Taken: workflow commands
on stdout (log lines, groups, annotations, masks), outputs appended to `$GITHUB_OUTPUT`, and
the step summary appended to `$GITHUB_STEP_SUMMARY`. Every line printed goes through `safe`:
names from a pull request must not start a workflow command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from actions_toolkit import core, file_command  # type: ignore[import-untyped]

from lambda_zip_action.events import Event
from lambda_zip_action.markdown import visible

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def load_event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pull_request_base(env: Mapping[str, str]) -> str | None:
    """The commit the pull request of a pull_request(_target) event is based on."""
    if env.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return None
    base = (load_event(env).get("pull_request") or {}).get("base") or {}
    sha = base.get("sha")
    return str(sha) if isinstance(sha, str) and sha else None


def pull_request_number(env: Mapping[str, str]) -> int | None:
    event = load_event(env)
    number = (event.get("pull_request") or {}).get("number", event.get("number"))
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def mask(env: Mapping[str, str], secret: str) -> None:
    """`::add-mask::` the secret, only where a runner reads workflow commands."""
    if secret and env.get("GITHUB_ACTIONS") == "true":
        core.set_secret(secret)


def set_output(env: Mapping[str, str], name: str, value: str) -> None:
    """Append one output to $GITHUB_OUTPUT, in the multi-line form actions-toolkit writes."""
    path = env.get("GITHUB_OUTPUT")
    if not path:
        core.set_output(name, value)
        return
    with Path(path).open("a", encoding="utf-8") as stream:
        stream.write(file_command.prepare_key_value_message(name, value) + "\n")


def write_summary(env: Mapping[str, str], text: str) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(text if text.endswith("\n") else text + "\n")


def show_event(event: Event) -> None:
    """A build's event as the job log shows it: warnings as annotations."""
    if event.level == "warning":
        core.warning(safe(event.message))
    elif event.level == "stage":
        log("==> " + event.message)
    elif event.level == "info":
        log("    " + event.message)


def safe(text: str) -> str:
    # Names from the pull request must not start a workflow command on a line: the runner
    # reads both `::name::` and `##[name]` (escape.no_commands says why).
    return visible(text).replace("::", ":\u2060:").replace("##[", "#\u2060#[")


def log(text: str) -> None:
    for line in text.splitlines() or [""]:
        core.info(safe(line))


@contextmanager
def group(title: str) -> Iterator[None]:
    core.start_group(title)
    try:
        yield
    finally:
        core.end_group()
