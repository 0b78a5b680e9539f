"""The report file beside the zip, committed as a symlink by a pull request.

`dist/lambda.zip.report.md -> /somewhere/outside` used to be written through: the Action wrote
the report outside the workspace. It is now written as the zip is, to a temporary file beside
it and renamed over the path: the link itself is replaced.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lambda_zip_action import cli

import support


def test_a_report_path_committed_as_a_symlink_is_replaced_not_written_through(
    tmp_path: Path,
) -> None:
    project = tmp_path / "workspace" / "fn"
    shutil.copytree(support.PROJECTS / "uvlock", project)
    outside = tmp_path / "outside" / "authorized_keys"
    outside.parent.mkdir()
    outside.write_text("ssh-ed25519 AAAA owner\n")
    (project / "dist").mkdir()
    (project / "dist" / "lambda.zip.report.md").symlink_to(outside)
    env = support.tool_env(GITHUB_TOKEN=None)
    env.update(
        GITHUB_WORKSPACE=str(tmp_path / "workspace"), RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"), GITHUB_ACTIONS="true",
        INPUT_WORKING_DIRECTORY="fn", INPUT_PYTHON_VERSION="3.12", INPUT_VERIFY="false",
        INPUT_COMMENT="false",
    )  # fmt: skip
    assert cli.main(["action"], env) == 0
    assert outside.read_text() == "ssh-ed25519 AAAA owner\n"  # written through before
    report = project / "dist" / "lambda.zip.report.md"
    assert not report.is_symlink()
    assert report.read_text().startswith("### Lambda package fn")
