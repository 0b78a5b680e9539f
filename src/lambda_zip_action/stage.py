"""Collect what goes into the archive: sources and installed dependencies, without copying.

The result is a list of entries (archive name, file on disk, mode) sorted by UTF-8 name. Walk
order, umask and mtimes never reach it: modes are normalised to 0644 or 0755 here. What is
skipped, refused or left out for git is decided by source_rules; the walk applies it, follows
links that stay inside the tree (judging them by their targets too) and refuses what cannot go
into a zip.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lambda_zip_action.errors import SourceError
from lambda_zip_action.escape import plain
from lambda_zip_action.source_rules import (
    ALWAYS_SKIPPED_DIRS,
    ALWAYS_SKIPPED_FILES,
    SKIPPED_SUFFIXES,
    SourceReport,
    SourceRules,
    is_virtualenv,
    matches,
)

__all__ = ["ALWAYS_SKIPPED_DIRS", "ALWAYS_SKIPPED_FILES", "SKIPPED_SUFFIXES", "SourceReport",
           "SourceRules", "StagedFile", "case_collisions", "collect", "collect_sources", "merge",
           "normalized_mode", "program_mode"]  # fmt: skip

Origin = Literal["source", "dependency", "bytecode"]


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


NO_RULES = SourceRules()


def collect(
    root: Path,
    origin: Origin,
    rules: SourceRules = NO_RULES,
    never_pack: Iterable[Path] = (),
    reverse: bool = False,
) -> list[StagedFile]:
    """Every file and directory under `root`, following links that stay inside it.

    For sources, `rules` say what is left out, credentials and foreign binaries are refused
    (see own_files), and with `rules.checkout` what git ignores is left out too unless
    `includes` name it.

    `reverse` walks each directory in reverse order: verify uses it to prove that nothing
    downstream depends on the order of the walk.
    """
    return _walked(root, origin, rules, never_pack, reverse).entries


def collect_sources(
    root: Path, rules: SourceRules, never_pack: Iterable[Path] = (), reverse: bool = False
) -> tuple[list[StagedFile], SourceReport]:
    """`collect` for a source directory, with what git ignored or does not track in it."""
    walker = _walked(root, "source", rules, never_pack, reverse)
    return walker.entries, walker.report


def _walked(
    root: Path, origin: Origin, rules: SourceRules, never_pack: Iterable[Path], reverse: bool
) -> _Walker:
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
    return walker


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
        self.report = SourceReport()
        # Directories git ignores that `includes` brought back: git is not asked below them.
        self.included: set[str] = set()

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
        if self.git_ignored(relative, path, is_dir):
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
            if self.origin == "source":
                refused = self.rules.refused(relative, real, self.root, info.st_size)
                if refused is not None:
                    self.problems.append(f"{plain(str(path))} {refused}")
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
            checkout = self.rules.checkout
            if self.origin == "source" and checkout and checkout.is_untracked(self.physical(path)):
                self.report.untracked.append(relative)
        else:
            kind = (
                "FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "socket"
                if stat.S_ISSOCK(info.st_mode)
                else "device file"
            )
            self.problems.append(f"{plain(str(path))} is a {kind}, which cannot go into a zip")

    def physical(self, path: Path) -> str:
        """`path` relative to the root as it lies on disk (through no link): how git names it."""
        return path.relative_to(self.root).as_posix()

    def git_ignored(self, relative: str, path: Path, is_dir: bool) -> bool:
        """Left out because git ignores it (a checkout of the commit would not have it)."""
        checkout = self.rules.checkout
        if self.origin != "source" or checkout is None:
            return False
        physical = self.physical(path)
        if any(physical.startswith(directory) for directory in self.included):
            return False
        if not checkout.is_ignored(physical, is_dir):
            return False
        if matches(self.rules.includes, relative):
            if is_dir:
                self.included.add(physical + "/")
            return False
        self.report.ignored.append(relative + "/" if is_dir else relative)
        return True

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
        always = last in ALWAYS_SKIPPED_DIRS or is_virtualenv(self.root / skipped)
        if matches(self.rules.excludes, skipped) or not always:
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
