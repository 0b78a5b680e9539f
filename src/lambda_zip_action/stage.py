"""Collect what goes into the archive: sources and installed dependencies, without copying.

The result is a list of entries (archive name, file on disk, mode) sorted by UTF-8 name. Walk
order, umask and mtimes never reach it: modes are normalised to 0644 or 0755 here. About 400
lines: the rules of what is packed (skips, includes, credentials refused, links followed inside
the tree) and the one walk that applies them are read together; apart, each would have to
restate the other.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lambda_zip_action.credentials import HEAD_BYTES, is_secret
from lambda_zip_action.errors import SourceError
from lambda_zip_action.escape import plain

Origin = Literal["source", "dependency", "bytecode"]

# Never shipped from a source tree, at any depth: build residue, caches and VCS data. A
# directory holding `pyvenv.cfg` (a virtual environment) is skipped too.
ALWAYS_SKIPPED_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".pytest_cache", ".mypy_cache", ".ruff_cache",
     ".hypothesis", ".tox", ".nox"}
)  # fmt: skip
ALWAYS_SKIPPED_FILES = frozenset({".DS_Store"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Skipped at the top of a source directory that is the project itself (`app.py` beside
# `requirements.txt`, or `--source .`): what a project holds besides the code Lambda runs.
TOP_LEVEL_SKIPPED = (
    "tests", "test", "dist", "build", "node_modules", "*.egg-info", ".github", ".idea",
    ".vscode", ".aws-sam", ".serverless", "cdk.out", ".terraform", "pyproject.toml", "uv.lock",
    "poetry.lock", "requirements*.txt", "requirements*.in", "Pipfile", "Pipfile.lock",
    "setup.py", "setup.cfg", "tox.ini", "noxfile.py", "conftest.py", ".python-version",
    ".gitignore", ".gitattributes", ".pre-commit-config.yaml", ".coveragerc", "README*",
    "CHANGELOG*", "CONTRIBUTING*", "Makefile", "Dockerfile", ".dockerignore",
    "docker-compose*.y*ml", "template.y*ml", "samconfig.toml", "serverless.y*ml", "*.tf",
    ".terraform.lock.hcl",
)  # fmt: skip
# A top-level layout's project directory is also where the local development settings live:
# a dotenv file at its top is left out (and said so), not refused. Anywhere else, and in any
# other layout, a .env is a credential the build refuses (see credentials).
TOP_LEVEL_DOTENV = (".env", ".env.*", ".envrc")


def top_level_dotenv(name: str) -> bool:
    """Whether `name`, at the top of a top-level layout, is local settings left out."""
    return _matches(TOP_LEVEL_DOTENV, name)


@dataclass(frozen=True)
class SourceRules:
    """What to leave out of one source directory.

    `excludes` always win; `includes` bring back what the default rules skip or refuse (a
    `tests/` directory, a `.env` file), never what `excludes` name. `top_level` is set when
    the source directory is the project directory itself.
    """

    excludes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    top_level: bool = False
    # Exact relative paths never packed: the directory the zip is written to.
    never: tuple[str, ...] = ()

    def skipped(self, relative: str, is_dir: bool, directory: Path | None = None) -> bool:
        """Whether the source path `relative` ("/"-separated) is left out."""
        if relative in self.never or _matches(self.excludes, relative):
            return True
        if _matches(self.includes, relative):
            return False
        name = relative.rsplit("/", 1)[-1]
        if is_dir and (name in ALWAYS_SKIPPED_DIRS or _is_virtualenv(directory)):
            return True
        if not is_dir and (name in ALWAYS_SKIPPED_FILES or name.endswith(SKIPPED_SUFFIXES)):
            return True
        return (
            self.top_level
            and "/" not in relative
            and _matches((*TOP_LEVEL_SKIPPED, *TOP_LEVEL_DOTENV), relative)
        )

    def refused_secret(self, relative: str, path: Path, root: Path) -> bool:
        """A credential (by its name, its link target's name or its content) not asked for by
        name in `includes`."""
        if _matches(self.includes, relative):
            return False
        try:
            with path.open("rb") as stream:
                head = stream.read(HEAD_BYTES)
        except OSError:
            head = None
        try:
            target = path.relative_to(root).as_posix()
        except ValueError:
            target = relative
        return is_secret(relative, head) or is_secret(target, None)


def _matches(patterns: Iterable[str], relative: str) -> bool:
    """A pattern with a "/" matches the whole path, one without matches the last name."""
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        target = relative if "/" in pattern.rstrip("/") else name
        if fnmatch.fnmatchcase(target, pattern.rstrip("/")):
            return True
    return False


def _is_virtualenv(directory: Path | None) -> bool:
    return directory is not None and (directory / "pyvenv.cfg").is_file()


@dataclass(frozen=True)
class StagedFile:
    name: str  # archive name, "/"-separated; directories end with "/"
    path: Path | None  # None for directories
    mode: int
    origin: Origin
    size: int = 0  # bytes on disk when staged; lets the archive writer batch small files

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def normalized_mode(st_mode: int) -> int:
    """0755 for directories and anything executable by someone, else 0644.

    The runtime user does not own the files, so everything must be readable by others.
    """
    if stat.S_ISDIR(st_mode) or st_mode & 0o111:
        return 0o755
    return 0o644


def program_mode(path: Path) -> int:
    """An installed dependency file's mode, from its content: 0755 for programs, else 0644.

    Installers disagree on a wheel's executable bits: pip (and pypa/installer) honour them only
    when the wheel also marks the member a regular file, uv honours them always (protobuf's
    abi3 wheel stores 0o777 without the file type: 0755 from uv, 0644 from pip). The content
    decides instead, the same whoever installed: an ELF file (an extension module, a shared
    library, a bundled program) or a script with a `#!` line is 0755, anything else 0644.
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
    except OSError:
        return 0o644
    return 0o755 if head == b"\x7fELF" or head.startswith(b"#!") else 0o644


def collect(
    root: Path,
    origin: Origin,
    rules: SourceRules = SourceRules(),
    never_pack: Iterable[Path] = (),
    reverse: bool = False,
) -> list[StagedFile]:
    """Every file and directory under `root`, following links that stay inside it.

    For sources, `rules` say what is left out, and credentials are refused (see credentials).

    `reverse` walks each directory in reverse order: verify uses it to prove that nothing
    downstream depends on the order of the walk.
    """
    identities = set()
    for path in never_pack:
        try:
            info = path.stat()
        except OSError:
            continue
        identities.add((info.st_dev, info.st_ino))
    walker = _Walker(root.resolve(), origin, rules, identities)
    walker.reverse = reverse
    walker.walk(walker.root, "", frozenset({walker.root}))
    walker.check_hard_links()
    if walker.problems:
        shown = walker.problems[:10]
        more = len(walker.problems) - len(shown)
        raise SourceError(
            f"Cannot package {plain(str(root))}: "
            + "; ".join(shown)
            + (f"; and {more} more" if more > 0 else "")
            + ". Fix or exclude these paths (--exclude) and build again."
        )
    return walker.entries


class _Walker:
    def __init__(
        self,
        root: Path,
        origin: Origin,
        rules: SourceRules,
        never_pack: set[tuple[int, int]],
    ) -> None:
        self.root = root
        self.origin: Origin = origin
        self.rules = rules
        self.never_pack = never_pack
        self.entries: list[StagedFile] = []
        self.problems: list[str] = []
        self.reverse = False
        # Regular source files with more than one name: identity -> (link count, names seen).
        self.linked: dict[tuple[int, int], tuple[int, set[Path], Path]] = {}

    def excluded(self, relative: str, is_dir: bool, real: Path) -> bool:
        if self.origin != "source":
            return False
        return self.rules.skipped(relative, is_dir, real if is_dir else None)

    def walk(self, directory: Path, prefix: str, chain: frozenset[Path]) -> None:
        try:
            with os.scandir(directory) as scan:
                children = sorted(scan, key=lambda e: e.name, reverse=self.reverse)
        except OSError as exc:
            self.problems.append(f"{plain(str(directory))} cannot be listed ({exc.strerror})")
            return
        for child in children:
            self.visit(Path(child.path), child.name, prefix, chain)

    def status(self, path: Path, read: Callable[[], os.stat_result]) -> os.stat_result | None:
        """`read()` (lstat or stat), or None with the problem noted."""
        try:
            return read()
        except OSError as exc:
            self.problems.append(f"{plain(str(path))} cannot be read ({exc.strerror})")
            return None

    def visit(self, path: Path, name: str, prefix: str, chain: frozenset[Path]) -> None:
        relative = prefix + name
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            self.problems.append(
                f"{os.fsencode(path)!r} has a name that is not valid UTF-8, which a zip for "
                "Lambda cannot hold portably"
            )
            return
        info = self.status(path, path.lstat)
        if info is None:
            return
        linked = stat.S_ISLNK(info.st_mode)
        real = path
        if linked:
            resolved = self.follow(path)
            if resolved is None:
                return
            info = self.status(path, resolved.stat)
            if info is None:
                return
            real = resolved
        is_dir = stat.S_ISDIR(info.st_mode)
        if self.excluded(relative, is_dir, real):
            return
        if linked and self.target_skipped(path, real, is_dir):
            return
        if is_dir:
            real = real.resolve()
            if real in chain:
                self.problems.append(
                    f"{plain(str(path))} is a symlink loop (it leads back to {plain(str(real))})"
                )
                return
            self.entries.append(StagedFile(relative + "/", None, 0o755, self.origin))
            self.walk(real, relative + "/", chain | {real})
        elif stat.S_ISREG(info.st_mode):
            # The output and manifest, by identity wherever they lie: never pack a zip into itself.
            if (info.st_dev, info.st_ino) in self.never_pack:
                return
            if not os.access(real, os.R_OK):
                self.problems.append(f"{plain(str(path))} is not readable by this user")
                return
            if self.origin == "source" and self.rules.refused_secret(relative, real, self.root):
                self.problems.append(
                    f"{plain(str(path))} looks like a credential (a .env file, a private key "
                    "or a credentials file) and is never shipped silently: anyone who can read "
                    "the function's code could read it. Move it out of the sources or exclude "
                    f"it (--exclude); if it must ship, --include {plain(relative)!r}"
                )
                return
            if self.origin == "source" and info.st_nlink > 1:
                count, names, first = self.linked.get(
                    (info.st_dev, info.st_ino), (info.st_nlink, set(), path)
                )
                names.add(real)
                self.linked[(info.st_dev, info.st_ino)] = (count, names, first)
            mode = (
                program_mode(real) if self.origin == "dependency" else normalized_mode(info.st_mode)
            )
            self.entries.append(StagedFile(relative, real, mode, self.origin, info.st_size))
        else:
            kind = (
                "FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "socket"
                if stat.S_ISSOCK(info.st_mode)
                else "device file"
            )
            self.problems.append(f"{plain(str(path))} is a {kind}, which cannot go into a zip")

    def follow(self, link: Path) -> Path | None:
        try:
            resolved = link.resolve(strict=True)
        except (OSError, RuntimeError):
            # RuntimeError: a loop on Python 3.10-3.12; OSError (ELOOP/ENOENT) elsewhere.
            target = link.readlink()
            self.problems.append(
                f"{plain(str(link))} is a broken symlink or a symlink loop "
                f"(-> {plain(str(target))})"
            )
            return None
        try:
            resolved.relative_to(self.root)
        except ValueError:
            self.problems.append(
                f"{plain(str(link))} is a symlink to {plain(str(resolved))}, outside "
                f"{plain(str(self.root))}; copy the file in instead, so the package does not "
                "depend on this machine's layout"
            )
            return None
        return resolved

    def target_skipped(self, link: Path, target: Path, is_dir: bool) -> bool:
        """Judge a symlink by what it points to: the skip rules and excludes apply there too.

        With `--source .`, a link to `.git/config` would otherwise ship the repository's
        credentials although `.git` itself is never packed. Such a link is refused (it is
        never what anyone meant to ship); a link to an excluded path is left out, silently,
        as the path itself is.
        """
        relative = target.relative_to(self.root).as_posix()
        parts = relative.split("/") if relative != "." else []
        if not parts or self.origin != "source":
            return False
        skipped = next(
            (
                "/".join(parts[: depth + 1])
                for depth in range(len(parts))
                if self.rules.skipped(
                    "/".join(parts[: depth + 1]),
                    depth < len(parts) - 1 or is_dir,
                    self.root.joinpath(*parts[: depth + 1])
                    if depth < len(parts) - 1 or is_dir
                    else None,
                )
            ),
            None,
        )
        if skipped is None:
            return False
        last = skipped.rsplit("/", 1)[-1]
        always = last in ALWAYS_SKIPPED_DIRS or _is_virtualenv(self.root / skipped)
        if _matches(self.rules.excludes, skipped) or not always:
            return True
        self.problems.append(
            f"{plain(str(link))} is a symlink to {plain(relative)}, inside "
            f"{plain(skipped)}, which is never packed; remove the link or "
            "exclude it (--exclude)"
        )
        return True

    def check_hard_links(self) -> None:
        """Refuse a file whose other names lie outside the sources (a hard link to elsewhere).

        A hard link is the file itself: `ln /etc/shadow src/x` makes `src/x` readable under the
        sources although nothing in them points outside. Only names seen in this source tree
        are counted; a file linked between two source directories is refused too (copy it).
        """
        for count, names, first in self.linked.values():
            if len(names) < count:
                self.problems.append(
                    f"{plain(str(first))} has {count} hard links and only {len(names)} of them "
                    f"lie in {plain(str(self.root))}: it is the same file as a path outside the "
                    "sources (a hard link to a file elsewhere); replace it with a copy "
                    "(cp --remove-destination) if it is meant to be shipped"
                )


def merge(*groups: list[StagedFile], layer: bool) -> list[StagedFile]:
    """One sorted list of entries; two files claiming one name is an error, not an overwrite."""
    prefix = "python/" if layer else ""
    by_name: dict[str, StagedFile] = {}
    clashes: list[str] = []
    for group in groups:
        for entry in group:
            name = prefix + entry.name
            previous = by_name.get(name)
            if previous is not None and not (previous.is_dir and entry.is_dir):
                clashes.append(f"{plain(name)} ({previous.origin} and {entry.origin})")
                continue
            by_name[name] = StagedFile(name, entry.path, entry.mode, entry.origin, entry.size)
    if clashes:
        raise SourceError(
            "Two inputs provide the same archive path: "
            + "; ".join(clashes[:10])
            + ". Rename or exclude one of them (--exclude)."
        )
    if layer:
        by_name["python/"] = StagedFile("python/", None, 0o755, "source")
    for name in list(by_name):
        parts = name.rstrip("/").split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth]) + "/"
            by_name.setdefault(parent, StagedFile(parent, None, 0o755, by_name[name].origin))
    return sorted(by_name.values(), key=lambda e: e.name.encode("utf-8"))


def case_collisions(entries: Iterable[StagedFile]) -> list[tuple[str, str]]:
    """Names equal when case is folded: fine on Lambda, but they break checkouts on macOS."""
    seen: dict[str, str] = {}
    collisions = []
    for entry in entries:
        key = unicodedata.normalize("NFC", entry.name).casefold()
        if key in seen and seen[key] != entry.name:
            collisions.append((seen[key], entry.name))
        seen.setdefault(key, entry.name)
    return collisions
