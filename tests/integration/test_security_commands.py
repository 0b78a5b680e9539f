"""Workflow commands from names a pull request or a zip controls.

A CI runner takes a line whose first non-blank characters are `::` as a command (`::add-mask::`,
`::stop-commands::`, which turns every later command off), and a line holding `##[name]`
anywhere as one too (actions/runner's ActionCommand.TryParse finds the `##[` prefix with
IndexOf); it splits lines at `\r` as well as `\n`. `inspect` printed zip entry names at the
start of a line, the Action's escaping knew only the `::` form, and then the CLI's knew `##[`
only at a line's start. Every line the CLI prints now goes through escape.no_commands, and the
Action's `safe` defuses both forms.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from lambda_zip_action.escape import no_commands
from lambda_zip_action.github.runner import safe
from lambda_zip_action.proof.inspect import inspect_zip
from lambda_zip_action.proof.render import inspection_text

import support

NAMES = ("::add-mask::hunter2", "##[set-output name=x]y", "::stop-commands::tok",
         "##[group]fake", "id_rsa")  # fmt: skip


def _commands(text: str) -> list[str]:
    """The lines a runner would obey (its rule: `::` after leading blanks, `##[` anywhere)."""
    lines = re.split(r"\r\n|\r|\n", text)
    return [line for line in lines if line.lstrip().startswith("::") or "##[" in line]


def _hostile_zip(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in NAMES:
            archive.writestr(name, "-----BEGIN OPENSSH PRIVATE KEY-----\n")
    return path


def test_inspect_printed_entry_names_as_workflow_commands_and_no_longer_does(
    tmp_path: Path,
) -> None:
    hostile = _hostile_zip(tmp_path)
    # What the renderer makes of these names: lines a runner would obey (the old output).
    rendered = inspection_text(inspect_zip(hostile, None, None))
    assert _commands(rendered), rendered
    printed = support.run_cli("inspect", str(hostile))
    assert printed.returncode == 1  # the keys are errors all the same
    assert not _commands(printed.stdout + printed.stderr)
    assert "\\x3a:add-mask::hunter2" in printed.stdout  # still shown, defused


def test_a_project_file_name_cannot_stop_commands_in_a_build_log(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("X = 1\n")
    (project / "src" / "::stop-commands::tok.py").write_text("def (:\n")
    built = support.run_cli("build", "--project", str(project), "--python-version", "3.12")
    assert built.returncode == 2  # the syntax error names the file
    assert "stop-commands" in built.stderr
    assert not _commands(built.stdout + built.stderr)


def test_both_forms_are_defused_everywhere() -> None:
    for name in NAMES:
        assert not _commands(no_commands(f"  {name}\n{name}"))
        assert not _commands(safe(name))
    assert not _commands(no_commands("a::b ##[c]d"))  # `##[` counts anywhere in a line
    assert no_commands("a::b") == "a::b"  # `::` only at a line's start


# Mid-line `##[`, a name carrying `\r` (a line break to the runner), and both in every format.
MID_LINE = ("app/x ##[add-mask]hunter2.py", "app/\r::stop-commands::tok.py",
            "app/y.py ##[stop-commands]tok", "app/\r\n  ##[set-output name=x]y.py")  # fmt: skip


def _zip(path: Path, names: tuple[str, ...]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app/handler.py", "X = 1\n")
        for name in names:
            archive.writestr(name, "X = 2\n")
    return path


def test_no_output_of_the_cli_holds_a_command_anywhere_in_any_format(tmp_path: Path) -> None:
    """inspect and diff, in text, markdown and JSON, on zips whose names carry both forms
    mid-line and after a carriage return: not one line a runner would obey. (The CLI's escape
    knew `##[` only at a line's start before: `app/x ##[add-mask]hunter2.py` went out as is.)"""
    old = _zip(tmp_path / "old.zip", ())
    new = _zip(tmp_path / "new.zip", NAMES + MID_LINE)
    runs = [("inspect", str(new)), ("inspect", "--format", "json", str(new))]
    runs += [("diff", "--format", fmt, str(old), str(new)) for fmt in ("text", "markdown", "json")]
    for arguments in runs:
        printed = support.run_cli(*arguments)
        assert printed.returncode in (0, 1), printed.stderr
        assert "hunter2" in printed.stdout, arguments  # the names are shown...
        assert not _commands(printed.stdout + printed.stderr), arguments  # ...never obeyed
        if "json" in arguments:
            document = json.loads(printed.stdout)  # still JSON, and it still says the names
            assert "app/x ##[add-mask]hunter2.py" in json.dumps(document, ensure_ascii=False)


def test_the_escape_leaves_ordinary_text_and_json_alone() -> None:
    assert no_commands("a::b # [c] x#y") == "a::b # [c] x#y"
    text = json.dumps({"name": "a ##[b]c", "n": "::x"})
    assert json.loads(no_commands(text)) == {"name": "a ##[b]c", "n": "::x"}
