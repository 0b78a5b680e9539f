"""The rules of what a source directory packs: what is skipped, what is refused, what git says.

Skipped at any depth: version control data (whatever `--include` says), caches, virtual
environments, `.pyc`. Skipped at the top of a project directory packed as the sources (a
top-level layout): what a project holds besides the code Lambda runs, and its local settings.
Refused: the project's own credentials and binaries Lambda cannot load (see own_files). Left
out: what git ignores, when the sources lie in a work tree (see gitrepo). The walk that applies
them is stage.collect.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lambda_zip_action.escape import plain
from lambda_zip_action.gitrepo import Checkout
from lambda_zip_action.own_files import HEAD_BYTES, refusal

# Never shipped, whatever `--include` says: version control data. `.git/config` holds the token
# actions/checkout persists, `.hg/hgrc` and `.svn/auth` credentials of their own.
NEVER_SHIPPED = frozenset({".git", ".hg", ".svn"})
# Never shipped from a source tree, at any depth: build residue and caches. A directory holding
# `pyvenv.cfg` (a virtual environment) is skipped too.
ALWAYS_SKIPPED_DIRS = NEVER_SHIPPED | frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox"}
)
ALWAYS_SKIPPED_FILES = frozenset({".DS_Store"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Skipped at the top of a source directory that is the project itself (`app.py` beside
# `requirements.txt`, or `--source .`): what a project holds besides the code Lambda runs. The
# deploy tools' files come from the layouts their templates create (sam init, cdk init app
# --language python, serverless create -t aws-python3 with serverless-python-requirements,
# chalice new-project, zappa init, Terraform modules): their configuration, lock files, build
# output and sample events. Names a module could have stay out of it (`template.py` ships;
# only `template.yaml`/`.yml`/`.json` are left out).
TOP_LEVEL_SKIPPED = (
    "tests", "test", "dist", "build", "node_modules", "*.egg-info", ".github", ".idea",
    ".vscode", ".aws-sam", ".serverless", "cdk.out", ".terraform*", "pyproject.toml", "uv.lock",
    "poetry.lock", "requirements*.txt", "requirements*.in", "Pipfile", "Pipfile.lock",
    "setup.py", "setup.cfg", "tox.ini", "noxfile.py", "conftest.py", ".python-version",
    ".gitignore", ".gitattributes", ".pre-commit-config.yaml", ".coveragerc", "README*",
    "CHANGELOG*", "CONTRIBUTING*", "Makefile", "Dockerfile", ".dockerignore",
    "docker-compose*.y*ml", ".editorconfig", ".gitlab-ci.yml", ".circleci", ".devcontainer",
    # AWS SAM and CloudFormation
    "template.y*ml", "template.json", "packaged*.y*ml", "samconfig.*", "buildspec*.y*ml",
    # AWS CDK
    "cdk.json", "cdk.context.json", "source.bat",
    # Serverless Framework and its node tooling
    "serverless.y*ml", "serverless.json", "serverless.ts", "serverless.js", "package.json",
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", ".npmignore", ".nvmrc",
    # Chalice (its config.json holds environment variables: a credential anywhere else)
    ".chalice",
    # Terraform
    "*.tf", "*.tf.json", "*.tfplan",
)  # fmt: skip
# Skipped at the top of such a project unless they are packages (hold `__init__.py`): SAM's
# sample events, documentation (Sphinx's docs/conf.py), helper scripts.
TOP_LEVEL_SKIPPED_UNLESS_PACKAGE = ("docs", "events", "scripts")
# A top-level layout's project directory is also where the local development settings live:
# a dotenv file at its top is left out (and said so), not refused; so are the deploy tools'
# files that hold environment variables or state (Serverless' env.yml and
# serverless.env.yml, zappa_settings.json, Terraform's variables and state). Anywhere else,
# and in any other layout, they are credentials the build refuses (see credentials).
TOP_LEVEL_DOTENV = (
    ".env", ".env.*", ".envrc", "env.y*ml", "*.env.y*ml", "zappa_settings.*", "*.tfvars",
    "*.tfvars.json", "*.tfstate", "*.tfstate.*",
)  # fmt: skip


def top_level_dotenv(name: str) -> bool:
    """Whether `name`, at the top of a top-level layout, is local settings left out."""
    return matches(TOP_LEVEL_DOTENV, name)


@dataclass(frozen=True)
class SourceRules:
    """What to leave out of one source directory.

    `excludes` always win; `includes` bring back what the default rules skip or refuse (a
    `tests/` directory, a `.env` file) and what git ignores (a generated file), never what
    `excludes` name, version control data or a binary Lambda cannot load. `top_level` is set
    when the source directory is the project directory itself.
    """

    excludes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    top_level: bool = False
    # Exact relative paths never packed: the directory the zip is written to.
    never: tuple[str, ...] = ()
    # The target, for the binaries judged by it (see own_files); None: not judged.
    python_version: str | None = None
    architecture: str | None = None
    # What git tracks and ignores in this directory (see gitrepo); None: not in a repository.
    checkout: Checkout | None = None

    def skipped(self, relative: str, is_dir: bool, directory: Path | None = None) -> bool:
        """Whether the source path `relative` ("/"-separated) is left out."""
        name = relative.rsplit("/", 1)[-1]
        if relative in self.never or name in NEVER_SHIPPED or matches(self.excludes, relative):
            return True
        if matches(self.includes, relative):
            return False
        if is_dir and (name in ALWAYS_SKIPPED_DIRS or is_virtualenv(directory)):
            return True
        if not is_dir and (name in ALWAYS_SKIPPED_FILES or name.endswith(SKIPPED_SUFFIXES)):
            return True
        return self.top_level and "/" not in relative and _top_level_skipped(name, directory)

    def refused(self, relative: str, path: Path, root: Path, size: int) -> str | None:
        """Why the source file cannot ship (see own_files), or None: a credential (by its name,
        its link target's name or its content) unless `includes` name it, a binary Lambda
        cannot load whatever they say."""
        try:
            with path.open("rb") as stream:
                head = stream.read(HEAD_BYTES)
        except OSError:
            head = None
        try:
            target = path.relative_to(root).as_posix()
        except ValueError:
            target = relative
        found = refusal(relative, head, size, self.python_version, self.architecture)
        if found is None and target != relative:
            found = refusal(target, None, size, self.python_version, self.architecture)
        if found is None or (found.kind == "credential" and matches(self.includes, relative)):
            return None
        if found.kind == "credential":
            return (
                "looks like a credential (a .env file, a private key, a credentials file or "
                "deploy settings) and is never shipped silently: anyone who can read the "
                "function's code could read it. Move it out of the sources or exclude it "
                f"(--exclude); if it must ship, --include {plain(relative)!r}"
            )
        return found.reason


def _top_level_skipped(name: str, directory: Path | None) -> bool:
    """At the top of a top-level layout: what a project holds besides its code."""
    if matches((*TOP_LEVEL_SKIPPED, *TOP_LEVEL_DOTENV), name):
        return True
    return (
        directory is not None
        and name in TOP_LEVEL_SKIPPED_UNLESS_PACKAGE
        and not (directory / "__init__.py").is_file()
    )


def matches(patterns: Iterable[str], relative: str) -> bool:
    """A pattern with a "/" matches the whole path, one without matches the last name."""
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        target = relative if "/" in pattern.rstrip("/") else name
        if fnmatch.fnmatchcase(target, pattern.rstrip("/")):
            return True
    return False


def is_virtualenv(directory: Path | None) -> bool:
    return directory is not None and (directory / "pyvenv.cfg").is_file()


@dataclass
class SourceReport:
    """What git said while staging a source directory, by archive name: the paths it ignores
    that were left out (the default rules kept them), and the files it does not track that
    were packed. A CI build of the commit has neither."""

    ignored: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)

    def notes(self, source: Path) -> list[str]:
        if not self.ignored:
            return []
        return [
            f"{len(self.ignored)} path(s) in {plain(str(source))} that git ignores left out "
            f"({_examples(self.ignored)}): a CI build of the commit would not have them; "
            "--include GLOB ships one that a step before the build generates"
        ]

    def warnings(self, source: Path) -> list[str]:
        if not self.untracked:
            return []
        return [
            f"{len(self.untracked)} file(s) in {plain(str(source))} that git does not track are "
            f"packed ({_examples(self.untracked)}): a CI build of the commit would not have "
            "them. Commit them, or ignore (.gitignore) or exclude (--exclude) them"
        ]


def _examples(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(plain(name) for name in sorted(names)[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
