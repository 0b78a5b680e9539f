"""Reading locks and requirements for a Lambda target, without installing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_zip_action.errors import RequirementsError
from lambda_zip_action.requirements import load_requirements
from lambda_zip_action.runtimes import RUNTIMES

from support import PROJECTS


def no_uv(_: Path) -> str:
    raise AssertionError("uv export is not expected here")


def env(version: str, architecture: str = "x86_64") -> dict[str, str]:
    return RUNTIMES[version].marker_environment(architecture)  # type: ignore[arg-type]


def names(lines: tuple[str, ...]) -> set[str]:
    return {line.split("==")[0].split(" @ ")[0].lower() for line in lines if line[0] != "-"}


def test_poetry_lock_main_group_with_markers_for_the_target() -> None:
    lock = PROJECTS / "poetry" / "poetry.lock"
    for_310 = load_requirements(lock, env("3.10"), no_uv)
    for_312 = load_requirements(lock, env("3.12", "arm64"), no_uv)
    assert "tomli" in names(for_310.lines)
    assert "tomli" not in names(for_312.lines)
    for result in (for_310, for_312):
        assert {"markupsafe", "python-dateutil", "six"} <= names(result.lines)
        assert "pytest" not in names(result.lines)  # dev group
        assert "pywin32-ctypes" not in names(result.lines)  # win32 only
        assert result.locked and result.hashed
        assert all("--hash=sha256:" in line for line in result.lines)
        assert all(";" not in line for line in result.lines)  # markers already evaluated


def test_poetry_lock_without_groups_walks_from_pyproject(tmp_path: Path) -> None:
    # Poetry 1.5-1.8 locks do not say which group a package is in.
    source = (PROJECTS / "poetry" / "poetry.lock").read_text()
    legacy = "\n".join(
        line for line in source.splitlines() if not line.startswith(("groups = ", "markers = "))
    )
    (tmp_path / "poetry.lock").write_text(legacy)
    (tmp_path / "pyproject.toml").write_bytes((PROJECTS / "poetry" / "pyproject.toml").read_bytes())
    result = load_requirements(tmp_path / "poetry.lock", env("3.12"), no_uv)
    assert {"markupsafe", "python-dateutil", "six"} <= names(result.lines)
    assert not names(result.lines) & {"pytest", "pywin32-ctypes", "tomli"}


def test_hashed_requirements_are_a_lock_and_markers_are_evaluated(tmp_path: Path) -> None:
    result = load_requirements(PROJECTS / "reqhash" / "requirements.txt", env("3.12"), no_uv)
    assert result.locked and result.hashed and not result.unpinned
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "six==1.17.0 \\\n    --hash=sha256:abc\n"
        "tomli==2.2.1 ; python_version < '3.11' --hash=sha256:def\n"
        "# a comment\n"
    )
    result = load_requirements(requirements, env("3.12"), no_uv)
    assert result.lines == ("six==1.17.0 --hash=sha256:abc",)
    assert load_requirements(requirements, env("3.10"), no_uv).lines[1].startswith("tomli==2.2.1")


def test_unpinned_inputs_are_flagged(tmp_path: Path) -> None:
    result = load_requirements(PROJECTS / "unpinned" / "pyproject.toml", env("3.12"), no_uv)
    assert result.unpinned == ("idna>=3",)
    assert not result.locked
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests==2.32.3\nidna\n")
    loose = load_requirements(requirements, env("3.12"), no_uv)
    assert loose.unpinned == ("idna",)
    assert not loose.locked  # no hashes: not known to be the whole closure


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("poetry.lock", "this is [not toml", "not valid TOML"),
        ("requirements.txt", "requests>>>2\n", "invalid requirement"),
        ("requirements.txt", "-c other.txt\n", "includes another file"),
        ("requirements.txt", "-r missing.txt\n", "cannot be read"),
        ("requirements.txt", "-r requirements.txt\n", "in a loop"),
        ("requirements.txt", "-r /etc/hostname\n", "outside"),
        ("requirements.txt", "--pre\nrequests\n", "--pre"),
        ("poetry.lock", "[metadata]\nlock-version = '2.1'\n", "no [[package]]"),
    ],
)
def test_malformed_inputs_raise_one_clear_error(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(RequirementsError, match=message.replace("[", r"\[")):
        load_requirements(path, env("3.12"), no_uv)


def test_an_included_requirements_file_is_read_in_place_and_pins_the_set(tmp_path: Path) -> None:
    """serverless-python-requirements' layout: module1/requirements.txt with -r ../common.txt."""
    (tmp_path / "module1").mkdir()
    top = tmp_path / "module1" / "requirements.txt"
    top.write_text("-r ../common.txt\nsix==1.17.0\n")
    (tmp_path / "common.txt").write_text("idna==3.10  # shared\n--requirement more.txt\n")
    (tmp_path / "more.txt").write_text("certifi==2025.1.31\n")
    first = load_requirements(top, env("3.12"), no_uv, committed=tmp_path)
    assert first.lines == ("idna==3.10", "certifi==2025.1.31", "six==1.17.0")
    (tmp_path / "more.txt").write_text("certifi==2025.4.26\n")
    second = load_requirements(top, env("3.12"), no_uv, committed=tmp_path)
    assert second.sha256 != first.sha256  # the top file's bytes alone did not change


def test_editable_and_path_requirements_are_installed_as_paths(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-e ./lib\n./other\nsix==1.17.0\n")
    result = load_requirements(requirements, env("3.12"), no_uv)
    # Relative to the requirements file, since the installers read a copy elsewhere.
    assert result.lines == (str(tmp_path / "lib"), str(tmp_path / "other"), "six==1.17.0")
    assert result.unpinned == ("./lib", "./other")


def test_an_include_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """`-r more.txt` naming a FIFO blocked the build until a timeout killed it."""
    import os

    top = tmp_path / "requirements.txt"
    top.write_text("-r more.txt\n")
    os.mkfifo(tmp_path / "more.txt")
    with pytest.raises(RequirementsError, match="not a regular file"):
        load_requirements(top, env("3.12"), no_uv, committed=tmp_path)
