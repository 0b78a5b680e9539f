"""One table of options: flags, pyproject keys and verify's rebuild all come from it.

The rebuild is the copy that changes bytes when it is wrong: an option missing from its command
line would make verify compare two differently configured builds. These tests fail when a
BuildConfig field that decides the bytes has no option, or when any such option's value does
not come back unchanged through the rebuild's command line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lambda_zip_action.cli import config_from_args, make_parser
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.options import OPTIONS, SETTINGS, rebuild_arguments

import support

# Fields that are not options: where the build runs and what it found, not what it makes.
# The last four come from a deploy configuration's declaration of a function (--function picks
# it; verify's rebuild is given the same): they are not build options of their own.
NOT_OPTIONS = {"project_dir", "temp_root", "notes", "python_version_reason", "layer_manifest",
               "source_date_epoch", "function", "handler", "handler_origin",
               "deploy_choice", "support", "layers", "written"}  # fmt: skip


def test_every_field_is_an_option() -> None:
    fields = {field.name for field in dataclasses.fields(BuildConfig)}
    assert fields - NOT_OPTIONS == {option.name for option in OPTIONS}


def test_every_setting_is_an_option_a_project_may_set() -> None:
    assert set(SETTINGS.values()) == {o.name for o in OPTIONS if o.setting is not None}
    assert "python" not in SETTINGS.values() and "no_build" not in SETTINGS.values()


def _unusual(tmp_path: Path, split: bool = True) -> BuildConfig:
    """A configuration where every option that affects the bytes is off its default (split
    and the layer layout exclude each other: one of them stays at its default)."""
    project = tmp_path / "p"
    for directory in ("src", "lib", "src/tests"):
        (project / directory).mkdir(parents=True, exist_ok=True)
    (project / "src" / "handler.py").write_text("X = 1\n")
    (project / "lib" / "shared.py").write_text("Y = 1\n")
    (project / "requirements-lambda.txt").write_text("idna==3.10\n")
    values = {
        "sources": [project / "src", project / "lib"],
        "requirements": project / "requirements-lambda.txt",
        "python_version": "3.11",
        "architecture": "arm64",
        "installer": "pip",
        "python": support.interpreter("3.11"),
        "layout": "function" if split else "layer",
        "split": split,
        "excludes": ["*.md", "app/fixtures/*"],
        "includes": ["tests"],
        "compile": False,
        "sbom": False,
        "compression_level": 9,
        "source_invalidation": "unchecked-hash",
        "no_build": True,
    }
    config = make_config(project, values)
    default = make_config(project, {"sources": values["sources"]})
    exempt = {"sources", "layout" if split else "split"}
    for option in OPTIONS:
        if option.affects_bytes and option.name not in exempt:
            assert getattr(config, option.name) != getattr(default, option.name), option.name
    return config


@pytest.mark.parametrize("split", [True, False])
def test_the_rebuild_gets_every_option_that_affects_the_bytes(tmp_path: Path, split: bool) -> None:
    config = _unusual(tmp_path, split)
    output = tmp_path / "rebuild" / "lambda.zip"
    arguments = rebuild_arguments(config, {"output": output})
    args = make_parser().parse_args(["build", "--project", str(config.project_dir), *arguments])
    again = config_from_args(args, {})
    for option in OPTIONS:
        if option.affects_bytes:
            assert getattr(again, option.name) == getattr(config, option.name), option.name
    assert again.output == output


def test_a_forgotten_option_is_caught(tmp_path: Path) -> None:
    """What the test above guards against: the rebuild without one option differs."""
    config = _unusual(tmp_path)
    arguments = rebuild_arguments(config, {"compression_level": None})
    args = make_parser().parse_args(["build", "--project", str(config.project_dir), *arguments])
    assert config_from_args(args, {}).compression_level != config.compression_level


# The action's build inputs come from the same table.

ACTION_ONLY_INPUTS = {"working-directory", "verify", "compare-to", "layer-compare-to",
                      "baseline-ref", "comment", "comment-author", "github-token",
                      "name", "function", "deploy-config", "cache"}  # fmt: skip


def test_the_actions_build_inputs_are_the_tables() -> None:
    import yaml

    from lambda_zip_action.options import ACTION_INPUTS

    declared = set(yaml.safe_load((support.REPO_ROOT / "action.yml").read_text())["inputs"])
    assert declared - ACTION_ONLY_INPUTS == {option.input_name for option in ACTION_INPUTS}
    # Every build input reaches make_config under its option's name.
    run = yaml.safe_load((support.REPO_ROOT / "action.yml").read_text())["runs"]["steps"]
    env = {k for step in run for k in (step.get("env") or {})}
    assert {"INPUT_" + o.input_name.replace("-", "_").upper() for o in ACTION_INPUTS} <= env


def test_action_inputs_become_the_build_options_a_flag_would(tmp_path: Path) -> None:
    from lambda_zip_action.github.inputs import build_options, read_inputs

    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("X = 1\n")
    (project / "requirements.txt").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\n[tool.lambda-zip]\nsplit = true\n'
        'python-version = "3.12"\n'
    )
    env = {"INPUT_SOURCE": "src", "INPUT_ARCHITECTURE": "arm64", "INPUT_NO_BUILD": "false"}
    options = build_options(read_inputs(env), project)
    assert options == {"sources": [project / "src"], "architecture": "arm64", "no_build": False}
    config = make_config(project, options)
    assert config.split is True  # the project's setting stands where no input is given
    assert (config.architecture, config.no_build) == ("arm64", False)
    # An explicit `split: false` overrides the project's `split = true`, as --split would not.
    unsplit_inputs = read_inputs({"INPUT_SPLIT": "false"})
    unsplit = make_config(project, build_options(unsplit_inputs, project))
    assert unsplit.split is False
    assert unsplit.no_build is True  # the action's default when the input is absent
    with pytest.raises(Exception, match="input split is 'maybe'; use true or false"):
        read_inputs({"INPUT_SPLIT": "maybe"})
