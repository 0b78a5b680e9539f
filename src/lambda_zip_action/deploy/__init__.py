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
    if choose is not None:
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
    return check(reader(path, project_dir), project_dir)


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
