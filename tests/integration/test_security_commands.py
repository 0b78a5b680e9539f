"""Workflow commands from names a pull request or a zip controls.

A CI runner takes a line whose first non-blank characters are `::` or `##[` as a command:
`::add-mask::`, `::stop-commands::` (which turns every later command off), `##[set-output]`.
`inspect` printed zip entry names at the start of a line, and the Action's escaping knew only
the `::` form. Every line the CLI prints now goes through escape.no_commands, and the Action's
`safe` defuses both forms.
"""

from __future__ import annotations

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
    return [line for line in text.splitlines() if line.lstrip().startswith(("::", "##["))]


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
    assert no_commands("a::b ##[c") == "a::b ##[c"  # only line starts matter
