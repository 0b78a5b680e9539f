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


def test_output_inside_a_source_directory_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(ConfigError, match="inside the source directory"):
        make_config(root, {"output": root / "src" / "lambda.zip"})


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.lambda-zip]\npython_version = "3.12"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        make_config(root, {})
