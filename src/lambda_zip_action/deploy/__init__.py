"""What a project's deploy tool declares: the functions to build, each with its code and target.

`discover(project_dir)` reads the deploy configuration a project already has (SAM or
CloudFormation templates, serverless.yml, CDK's synthesized cdk.out, Terraform, Chalice, Zappa,
and `[tool.lambda-zip.functions]`, which always wins) and returns one `DeployConfig`, or None when
the project declares nothing. Every fact carries the file and line that said it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lambda_zip_action.deploy import cdk, declared, frameworks, sam, serverless, terraform
from lambda_zip_action.deploy.model import DeployConfig
from lambda_zip_action.deploy.source import relative
from lambda_zip_action.deploy.validate import check
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

Reader = Callable[[Path, Path], DeployConfig]

# (find the file(s), read one), in the order a project most likely means.
TOOLS: tuple[tuple[Callable[[Path], Path | list[Path] | None], Reader], ...] = (
    (sam.find, sam.read),
    (serverless.find, serverless.read),
    (cdk.find, cdk.read),
    (frameworks.find_chalice, frameworks.read_chalice),
    (frameworks.find_zappa, frameworks.read_zappa),
    (terraform.find, terraform.read),
)


def discover(project_dir: Path, choose: str | None = None) -> DeployConfig | None:
    """The project's deploy configuration, or None when it declares no function."""
    project_dir = project_dir.resolve()
    own = declared.read(project_dir)
    if own is not None:
        return check(_noting_others(own, project_dir), project_dir)
    found = [(path, reader) for finder, reader in TOOLS for path in _paths(finder(project_dir))]
    below = _one_level_down(project_dir)
    if choose is not None:
        found += below
        # Relative to the project (as in the Action and pyproject), else to the working
        # directory (as a shell user types it).
        wanted = [(project_dir / choose).resolve(), Path(choose).resolve()]
        picked = [(p, r) for p, r in found if p.resolve() in wanted or p.parent in wanted]
        if not picked:
            listed = ", ".join(relative(p, project_dir) for p, _ in found) or "none"
            raise DeployConfigError(
                f"--deploy-config {plain(choose)} is not a deploy configuration this tool reads "
                f"in {project_dir} (found: {listed})."
            )
        found = picked
    # A template.yaml of other resources only (a database, a bucket) declares no function.
    found = [
        (p, r) for p, r in found if r is not sam.read or sam.declares_functions(p, project_dir)
    ]
    notes: tuple[str, ...] = ()
    if not found and choose is None:
        # sam/template.yaml, infra/serverless.yml: a project whose root holds none is built as
        # the one it holds a level down declares (its paths are relative to its directory).
        found = [(p, r) for p, r in below
                 if r is not sam.read or sam.declares_functions(p, project_dir)]  # fmt: skip
        if len(found) == 1:
            notes = (f"{relative(found[0][0], project_dir)} declares the functions: the "
                     "project's root holds no deploy configuration",)  # fmt: skip
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(relative(path, project_dir) for path, _ in found)
        raise DeployConfigError(
            f"{project_dir} holds several deploy configurations ({names}): name the one to build "
            "with --deploy-config FILE (the Action's deploy-config input), or declare the "
            "functions in [tool.lambda-zip.functions]."
        )
    [(path, reader)] = found
    config = check(reader(path, project_dir), project_dir)
    if notes:
        config = DeployConfig(config.tool, config.files, config.functions, config.layers,
                              (*notes, *config.notes))  # fmt: skip
    return config


# Directories a level down that never hold the project's deploy configuration.
_NOT_CONFIG_DIRS = {"node_modules", "tests", "test", "examples", "example", "docs", "dist",
                    "build", "cdk.out", "venv", "site-packages", "__pycache__"}  # fmt: skip


def _one_level_down(project_dir: Path) -> list[tuple[Path, Reader]]:
    """SAM templates and serverless.yml files in the project's direct subdirectories."""
    found: list[tuple[Path, Reader]] = []
    try:
        children = sorted(project_dir.iterdir())
    except OSError:
        return found
    for child in children:
        if child.name.startswith(".") or child.name in _NOT_CONFIG_DIRS or child.is_symlink():
            continue
        if not child.is_dir():
            continue
        for names, reader in ((sam.NAMES, sam.read), (serverless.NAMES, serverless.read)):
            found += [(child / n, reader) for n in names if (child / n).is_file()]
    return found


def _paths(found: Path | list[Path] | None) -> list[Path]:
    return found if isinstance(found, list) else [] if found is None else [found]


def _noting_others(own: DeployConfig, project_dir: Path) -> DeployConfig:
    others = [
        relative(path, project_dir) for finder, _ in TOOLS for path in _paths(finder(project_dir))
    ]
    if not others:
        return own
    note = (
        f"[tool.lambda-zip.functions] in pyproject.toml declares the functions; "
        f"{', '.join(others)} not read"
    )
    return DeployConfig(own.tool, own.files, own.functions, own.layers, (*own.notes, note))


__all__ = ["DeployConfig", "discover"]
