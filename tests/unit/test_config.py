"""Flags over [tool.lambda-zip] over defaults, validated once with every problem listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_zip_action.config import make_config
from lambda_zip_action.errors import ConfigError


def project(tmp_path: Path, settings: str = "") -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["idna>=3"]\n' + settings
    )
    return tmp_path


def test_pyproject_settings_apply_and_flags_win(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        '[tool.lambda-zip]\npython-version = "3.11"\narchitecture = "arm64"\n'
        'exclude = "*.md"\noutput = "build/fn.zip"\n',
    )
    config = make_config(root, {})
    assert (config.python_version, config.architecture) == ("3.11", "arm64")
    assert config.excludes == ("*.md",)
    assert config.output == root / "build" / "fn.zip"
    assert config.manifest == root / "build" / "fn.zip.manifest.json"
    assert config.requirements == root / "pyproject.toml"
    overridden = make_config(root, {"python_version": "3.13", "architecture": "aarch64"})
    assert (overridden.python_version, overridden.architecture) == ("3.13", "arm64")


def test_lock_discovery_order(tmp_path: Path) -> None:
    root = project(tmp_path)
    for name in ("requirements.txt", "poetry.lock", "uv.lock"):
        (root / name).write_text("")
        config = make_config(root, {})
        assert config.requirements == root / name
        assert any(name in note for note in config.notes)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(ConfigError) as caught:
        make_config(
            root,
            {
                "python_version": "3.8",
                "architecture": "sparc",
                "compression_level": 12,
                "sources": [root / "missing"],
                "output": root / "missing" / "out.zip",
            },
            source_date_epoch="yesterday",
        )
    message = str(caught.value)
    for fragment in ("3.8", "sparc", "compression level", "does not exist", "SOURCE_DATE_EPOCH"):
        assert fragment in message


def test_output_inside_a_source_directory_is_allowed(tmp_path: Path) -> None:
    """The build never packs its own output (see test_build_errors); it is no error."""
    root = project(tmp_path)
    config = make_config(root, {"output": root / "src" / "lambda.zip"})
    assert config.output == root / "src" / "lambda.zip"


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.lambda-zip]\npython_version = "3.12"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        make_config(root, {})


# Finding 2: a project's own settings can neither run a program nor write outside the project.


def test_pyproject_may_not_choose_the_python_that_runs(tmp_path: Path) -> None:
    planted = tmp_path / "tools" / "python3.12"
    planted.parent.mkdir()
    planted.write_text('#!/bin/sh\ntouch "$(dirname "$0")/ran"\n')
    planted.chmod(0o755)
    root = project(tmp_path, '[tool.lambda-zip]\npython = "tools/python3.12"\n')
    with pytest.raises(ConfigError) as caught:
        make_config(root, {})
    assert "python" in caught.value.message and "--python" in caught.value.message
    assert "\n" not in caught.value.message
    assert not (planted.parent / "ran").exists()
    # The command line still may.
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert make_config(root, {"python": planted}).python == planted


def test_pyproject_may_not_refuse_or_allow_builds(tmp_path: Path) -> None:
    root = project(tmp_path, "[tool.lambda-zip]\nno-build = false\n")
    with pytest.raises(ConfigError, match="--no-build"):
        make_config(root, {})


@pytest.mark.parametrize(
    "setting",
    [
        'output = "/tmp/elsewhere/lambda.zip"',
        'manifest = "../../manifest.json"',
        'output = "dist/../../x.zip"',
        'source = ["/etc"]',
        'requirements = "../other/requirements.txt"',
        'output = "link/lambda.zip"',
    ],
)
def test_pyproject_paths_must_stay_inside_the_project(tmp_path: Path, setting: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    inner = tmp_path / "project"
    inner.mkdir()
    root = project(inner, "[tool.lambda-zip]\n" + setting + "\n")
    (root / "link").symlink_to(outside)
    # Without the check these settings would be taken as given: the attack is the setting.
    with pytest.raises(ConfigError) as caught:
        make_config(root, {})
    message = caught.value.message
    assert "outside the project" in message and "\n" not in message
    assert not list(outside.iterdir())


def test_a_default_output_through_a_symlink_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    inner = tmp_path / "project"
    inner.mkdir()
    root = project(inner)
    (root / "dist").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the"):
        make_config(root, {})
    # Given on the command line, it is the user's choice.
    assert make_config(root, {"output": outside / "x.zip"}).output == outside / "x.zip"


def test_pyproject_paths_inside_the_project_are_fine(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.lambda-zip]\noutput = "build/../out/fn.zip"\n')
    # Normalised, as every path the tool reports is.
    assert make_config(root, {}).output == root / "out" / "fn.zip"


def test_a_python_version_written_as_a_toml_number_is_explained(tmp_path: Path) -> None:
    """python-version = 3.10 is the number 3.1 in TOML; "3.1 is not a runtime" misled."""
    from lambda_zip_action.config import read_pyproject_settings
    from lambda_zip_action.errors import ConfigError

    (tmp_path / "pyproject.toml").write_text("[tool.lambda-zip]\npython-version = 3.10\n")
    with pytest.raises(ConfigError) as raised:
        read_pyproject_settings(tmp_path)
    assert "is the number 3.1, not a version (TOML reads 3.10 as 3.1)" in raised.value.message
    assert 'python-version = "3.12"' in raised.value.message
    (tmp_path / "pyproject.toml").write_text('[tool.lambda-zip]\npython-version = "3.10"\n')
    assert read_pyproject_settings(tmp_path)["python_version"] == "3.10"


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("exclude = 5", "exclude = 5 must be a string or a list of strings"),
        ('compile = "false"', "compile = 'false' must be true or false (write false without"),
        ('split = "true"', "split = 'true' must be true or false (write true without quotes)"),
        ("compression-level = true", "compression-level = True must be a whole number"),
        ('installer = "poetry"', "installer = 'poetry' must be one of uv, pip"),
        ("source = []", "source = [] must be a string or a list of strings"),
    ],
)
def test_a_setting_of_the_wrong_type_is_one_clear_error(
    tmp_path: Path, setting: str, words: str
) -> None:
    """TOML has types: `"false"` was read as true, and `exclude = 5` raised a TypeError."""
    root = tmp_path / "p"
    (root / "src").mkdir(parents=True)
    (root / "pyproject.toml").write_text(f"[tool.lambda-zip]\n{setting}\n")
    with pytest.raises(ConfigError) as raised:
        make_config(root, {"python_version": "3.12"})
    assert words in raised.value.message
