"""The git repository holding a directory, and git run on it without trusting the tree.

The project tree is untrusted: a pull request controls it. A repository is therefore never
found by git's own discovery, which would take a bare repository committed in a subdirectory
(`HEAD`, `config`, `objects/`, `refs/`) for the real one and run what its `config` names
(`core.fsmonitor`). `find_repository` walks up for a `.git` directory or gitfile itself: git
refuses to commit a path named `.git`, so one found in a checkout is the checkout's own.

`run_git` runs git on that repository only (`--git-dir`, `--work-tree`), with the settings
that run programs turned off, no system or global configuration, and an environment that holds
nothing but PATH and git's own switches: no token, no `INPUT_*`, no cloud credentials.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_zip_action.errors import ConfigError
from lambda_zip_action.escape import plain

# Settings that would run a program or write to the repository, whatever its config says.
SAFE_SETTINGS = (
    "core.fsmonitor=false",
    "core.untrackedCache=false",
    "core.hooksPath=/dev/null",
    "safe.bareRepository=explicit",
    "protocol.ext.allow=never",
)
TIMEOUT = 120


@dataclass(frozen=True)
class Repository:
    git_dir: Path
    work_tree: Path


def find_repository(directory: Path) -> Repository | None:
    """The repository whose work tree holds `directory`: the nearest `.git` directory or
    gitfile (`gitdir: ...`, a worktree or submodule) at or above it; None if there is none."""
    start = directory.resolve()
    for candidate in (start, *start.parents):
        dot_git = candidate / ".git"
        if dot_git.is_symlink():
            continue
        if dot_git.is_dir():
            return Repository(dot_git, candidate)
        if dot_git.is_file():
            try:
                first = dot_git.read_text(encoding="utf-8", errors="replace").partition("\n")[0]
            except OSError:
                continue
            if first.startswith("gitdir:"):
                git_dir = Path(first.removeprefix("gitdir:").strip())
                return Repository((candidate / git_dir).resolve(), candidate)
    return None


def git_environment(env: Mapping[str, str]) -> dict[str, str]:
    """PATH from `env` and git's own switches; nothing else of the caller's reaches git."""
    return {
        "PATH": env.get("PATH", os.defpath),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": "/",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_LITERAL_PATHSPECS": "1",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "LC_ALL": "C",
    }


def run_git(
    repository: Repository,
    arguments: Sequence[str],
    env: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
) -> bytes:
    """git's standard output for `arguments` on `repository`; ConfigError when it fails.

    `extra_env` adds variables a command needs (the other engineer's fetch, say); everything
    else of `env` but PATH stays out.
    """
    environment = {**git_environment(env), **(extra_env or {})}
    git = shutil.which("git", path=environment["PATH"])
    if git is None:
        raise ConfigError("git is not installed (not on PATH).")
    settings = [part for setting in SAFE_SETTINGS for part in ("-c", setting)]
    command = [
        git,
        f"--git-dir={repository.git_dir}",
        f"--work-tree={repository.work_tree}",
        *settings,
        *arguments,
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=repository.work_tree,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"git {arguments[0]} could not run: {exc}") from exc
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        last = lines[-1] if lines else f"exit {completed.returncode}"
        raise ConfigError(
            f"git {arguments[0]} failed in {plain(str(repository.work_tree))}: {plain(last)}"
        )
    return completed.stdout


@contextlib.contextmanager
def detached_worktree(
    project: Path, ref: str, env: Mapping[str, str], scratch: Path
) -> Iterator[tuple[str, Path]]:
    """`git worktree add --detach` of `ref` under `scratch`: yields (its commit, the project's
    directory inside it), and removes the worktree afterwards. A commit a shallow checkout
    lacks is fetched from origin, alone."""
    repository = find_repository(project)
    if repository is None:
        raise ConfigError(f"{project} is not inside a git checkout: there is no commit to build.")
    relative = project.resolve().relative_to(repository.work_tree.resolve())
    commit = _resolve_commit(ref, repository, env)
    tree = scratch / f"baseline-{commit[:12]}"
    _git(["worktree", "add", "--detach", str(tree), commit], repository, env)
    try:
        yield commit, tree / relative
    finally:
        with contextlib.suppress(ConfigError):
            _git(["worktree", "remove", "--force", str(tree)], repository, env)


def _resolve_commit(ref: str, repository: Repository, env: Mapping[str, str]) -> str:
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repository, env)
    except ConfigError:
        pass
    # A shallow checkout (actions/checkout's default) lacks the base commit: fetch just it.
    try:
        _git(["fetch", "--no-tags", "--depth=1", "origin", ref], repository, env)
        return _git(["rev-parse", "--verify", "FETCH_HEAD^{commit}"], repository, env)
    except ConfigError as exc:
        raise ConfigError(
            f"The ref {plain(ref)!r} is not in this checkout and could not be fetched from "
            f"origin ({exc.message}). Check it out with `fetch-depth: 0`, or give another ref."
        ) from None


def _git(arguments: list[str], repository: Repository, env: Mapping[str, str]) -> str:
    return run_git(repository, arguments, env).decode("utf-8", "replace").strip()


@dataclass(frozen=True)
class Checkout:
    """What git says of the files under one directory of a work tree, by path relative to it.

    `tracked` holds the files a checkout of the commit has (its index); `ignored` the untracked
    paths git ignores, a directory as "name/" when all of it is; `submodules` the directories
    whose files another repository tracks (not looked into).
    """

    repository: Repository
    tracked: frozenset[str]
    ignored: frozenset[str]
    submodules: frozenset[str]

    def is_ignored(self, relative: str, is_dir: bool) -> bool:
        if (relative + "/" if is_dir else relative) in self.ignored:
            return True
        return any(parent + "/" in self.ignored for parent in _parents(relative))

    def is_untracked(self, relative: str) -> bool:
        """Neither tracked nor ignored: a file a checkout of the commit would not have."""
        if relative in self.tracked or relative in self.submodules:
            return False
        if any(parent in self.submodules for parent in _parents(relative)):
            return False
        return not self.is_ignored(relative, False)


def checkout(directory: Path, env: Mapping[str, str]) -> Checkout | None:
    """What git tracks and ignores under `directory`; None outside a repository.

    ConfigError when git cannot tell (not installed, a repository it refuses to read).
    """
    repository = find_repository(directory)
    if repository is None:
        return None
    inside = directory.resolve().relative_to(repository.work_tree.resolve()).as_posix()
    pathspec = "." if inside == "." else inside
    prefix = "" if inside == "." else inside + "/"
    staged = run_git(repository, ["ls-files", "-z", "--stage", "--", pathspec], env)
    tracked: set[str] = set()
    submodules: set[str] = set()
    for row in _rows(staged):
        info, _, path = row.partition("\t")
        relative = path.removeprefix(prefix)
        (submodules if info.startswith("160000 ") else tracked).add(relative)
    listing = run_git(
        repository,
        ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory", "--",
         pathspec],
        env,
    )  # fmt: skip
    ignored = {path.removeprefix(prefix) for path in _rows(listing)}
    return Checkout(repository, frozenset(tracked), frozenset(ignored), frozenset(submodules))


def _rows(output: bytes) -> list[str]:
    return [row for row in output.decode("utf-8", "surrogateescape").split("\0") if row]


def _parents(relative: str) -> list[str]:
    parts = relative.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]
