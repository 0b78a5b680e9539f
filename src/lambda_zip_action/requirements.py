"""Turn the project's lock or requirements into one list the installers agree on.

Every input kind (requirements.txt, uv.lock, poetry.lock, pyproject.toml) becomes a
`RequirementSet`: requirements.txt lines whose environment markers have already been evaluated
for the Lambda target, so that uv and pip see the same list whatever host they run on. pip, in
particular, evaluates markers against the host, not against its --platform.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lambda_zip_action.errors import RequirementsError
from lambda_zip_action.toml_text import TomlError, parse_toml, table
from lambda_zip_action.uv_lock import check_uv_lock_current

Kind = Literal["uv.lock", "poetry.lock", "requirements.txt", "pyproject.toml", "none"]

# Options that may stand in a requirements file and are passed on to the installer as they are.
PASSED_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--no-index")


@dataclass(frozen=True)
class RequirementSet:
    kind: Kind
    path: Path | None
    sha256: str | None
    lines: tuple[str, ...]
    # Every requirement is pinned to one version (or a direct reference) and the list is the
    # whole closure: installers are run without dependency resolution.
    locked: bool
    # Every requirement carries hashes: installers check them.
    hashed: bool
    unpinned: tuple[str, ...] = ()

    def names(self) -> set[str]:
        """The PEP 503 names the lines name (bare paths and URLs name none)."""
        found: set[str] = set()
        for line in self.lines:
            try:
                found.add(canonicalize_name(Requirement(_HASH.sub("", " " + line).strip()).name))
            except InvalidRequirement:
                continue
        return found

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    @property
    def empty(self) -> bool:
        return not any(not line.startswith("-") for line in self.lines)


Exporter = Callable[[Path], str]


def load_requirements(
    path: Path | None,
    marker_env: Mapping[str, str],
    export_uv_lock: Exporter,
    committed: Path | None = None,
) -> RequirementSet:
    """Read `path` (or nothing) into a RequirementSet for the target described by `marker_env`.

    `export_uv_lock` turns a uv.lock into requirements.txt text; it is passed in because it
    runs uv, and side effects belong to the install stage. A local path inside `committed`
    (the project's repository) is pinned by the commit, as the project's own code is.
    """
    if path is None:
        return RequirementSet("none", None, None, (), locked=True, hashed=True)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RequirementsError(f"Cannot read {path}: {exc.strerror}.") from exc
    digest = hashlib.sha256(data).hexdigest()
    name = path.name
    if name == "uv.lock":
        check_uv_lock_current(path, data, _toml)
        text = export_uv_lock(path)
        lines, unpinned, hashed = _filter_lines(
            _logical_lines(text, path), marker_env, path, committed
        )
        return RequirementSet("uv.lock", path, digest, lines, True, hashed, unpinned)
    if name == "poetry.lock":
        lock = _toml(path, data)
        try:
            lines = tuple(_poetry_lines(path, lock, marker_env))
        except (AttributeError, TypeError, KeyError) as exc:
            # A table where a string is due, a list where a table is: the lock's own content.
            raise RequirementsError(
                f"{path} does not have the layout of a poetry.lock ({type(exc).__name__}: "
                f"{str(exc)[:200]}). Regenerate it with poetry lock."
            ) from exc
        return RequirementSet("poetry.lock", path, digest, lines, True, _all_hashed(lines))
    if name == "pyproject.toml":
        deps = table(_toml(path, data), "project").get("dependencies", [])
        if not isinstance(deps, list):
            raise RequirementsError(f"[project] dependencies in {path} must be a list of strings.")
        lines, unpinned, hashed = _filter_lines([str(d) for d in deps], marker_env, path, committed)
        return RequirementSet(
            "pyproject.toml", path, digest, lines, locked=False, hashed=False, unpinned=unpinned
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequirementsError(f"{path} is not UTF-8 text.") from exc
    included = _Includes(path, committed or path.parent)
    logical = list(_logical_lines(text, path, included))
    if included.read:
        # The included files are inputs too: a change to one changes the set.
        digest = hashlib.sha256(data + b"".join(included.read)).hexdigest()
    lines, unpinned, hashed = _filter_lines(logical, marker_env, path, committed)
    # A file where everything is pinned and hashed is a lock (pip's hash-checking mode
    # already demands the whole closure); anything else is resolved by the installer.
    locked = hashed and not unpinned
    return RequirementSet("requirements.txt", path, digest, lines, locked, hashed, unpinned)


def _toml(path: Path, data: bytes) -> dict[str, Any]:
    try:
        document: dict[str, Any] = parse_toml(data.decode("utf-8"))
    except (TomlError, UnicodeDecodeError) as exc:
        raise RequirementsError(
            f"{path} is not valid TOML ({exc}). Regenerate it with the tool that wrote it."
        ) from exc
    return document


class _Includes:
    """`-r FILE` in a requirements file: FILE read in its place, as pip does, if it lies inside
    `root` (the repository, so the commit pins it), at most MAX_DEPTH files deep, never twice."""

    MAX_DEPTH = 8

    def __init__(self, top: Path, root: Path) -> None:
        self.root = root.resolve()
        self.chain = [top.resolve()]
        self.read: list[bytes] = []

    def __call__(self, line: str, path: Path) -> Iterator[str]:
        name = line.split(None, 1)[1].strip() if " " in line else line.split("=", 1)[-1]
        if name.startswith("-r"):
            name = name[2:]
        target = (path.parent / name.strip()).resolve()
        if not _is_within(target, self.root):
            raise RequirementsError(
                f"{path} includes {name!r} (-r), which lies outside {self.root}: only files "
                "the commit holds may be included; copy its lines in."
            )
        if target in self.chain or len(self.chain) > self.MAX_DEPTH:
            raise RequirementsError(
                f"{path} includes {name!r} (-r) in a loop or more than {self.MAX_DEPTH} files "
                "deep: flatten the includes."
            )
        if target.exists() and not target.is_file():  # a FIFO or a device: blocks, never ends
            raise RequirementsError(f"{path} includes {name!r} (-r), which is not a regular "
                                    "file.")  # fmt: skip
        try:
            data = target.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RequirementsError(f"{path} includes {name!r} (-r), which cannot be read: "
                                    f"{exc}.") from exc  # fmt: skip
        self.read.append(str(target.relative_to(self.root)).encode() + b"\0" + data)
        self.chain.append(target)
        try:
            yield from _logical_lines(text, target, self)
        finally:
            self.chain.pop()


def _logical_lines(text: str, path: Path, include: _Includes | None = None) -> Iterator[str]:
    """Join continuation lines and drop comments, as pip reads a requirements file; `-r FILE`
    is read in place when `include` is given."""
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if not line:
            continue
        if include is not None and line.startswith(("-r", "--requirement")):
            yield from include(line, path)
            continue
        if line.startswith(("-r", "--requirement", "-c", "--constraint")):
            raise RequirementsError(
                f"{path} includes another file ({line.split()[0]}): flatten it into one "
                "requirements file (for example with uv pip compile) so its hash pins the input."
            )
        yield line
    if pending.strip():
        yield pending.strip()


_HASH = re.compile(r"\s--hash[=\s]\s*(\S+)")


def repository_root(project_dir: Path) -> Path:
    """The git work tree holding `project_dir`, else `project_dir` itself."""
    for directory in (project_dir, *project_dir.parents):
        if (directory / ".git").exists():
            return directory
    return project_dir


def _filter_lines(
    lines: Iterable[str], marker_env: Mapping[str, str], path: Path, committed: Path | None
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    kept: list[str] = []
    unpinned: list[str] = []
    hashed = True
    for given in lines:
        line = _without_editable(given)
        if line.startswith("-"):
            if line.split("=")[0].split()[0] in PASSED_OPTIONS:
                kept.append(line)
                continue
            raise RequirementsError(
                f"{path} uses the option {line.split()[0]!r}, which a reproducible build cannot "
                f"honour the same way with every installer; remove it."
            )
        hashes = _HASH.findall(" " + line)
        spec = _HASH.sub("", " " + line).strip()
        requirement = _parse(spec, path)
        if requirement is None:
            # A bare path or URL. A relative path is relative to the file that names it, and
            # the installers will read a copy of the list elsewhere. A path inside the
            # repository is pinned by the commit; anything else can change without one.
            local = _local_path(spec, path)
            if local is None or committed is None or not _is_within(local, committed):
                unpinned.append(spec)
            located = str(local) if spec.startswith(".") and local is not None else spec
            kept.append(" ".join([located, *(f"--hash={h}" for h in hashes)]))
            hashed = hashed and bool(hashes)
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(
            {**marker_env, "extra": ""}
        ):
            continue
        requirement.marker = None
        if not _pinned(requirement):
            unpinned.append(str(requirement))
        hashed = hashed and bool(hashes)
        kept.append(" ".join([str(requirement), *(f"--hash={h}" for h in hashes)]))
    return tuple(kept), tuple(unpinned), hashed and bool(kept)


def _local_path(spec: str, path: Path) -> Path | None:
    if spec.startswith("file://"):
        return Path(spec.removeprefix("file://")).resolve()
    if spec.startswith((".", "/")):
        return (path.parent / spec).resolve()
    return None


def _is_within(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def _without_editable(line: str) -> str:
    """An editable install means nothing in a zip: install the path like any other."""
    for flag in ("-e ", "--editable ", "--editable="):
        if line.startswith(flag):
            return line[len(flag) :].strip()
    return line


def _parse(spec: str, path: Path) -> Requirement | None:
    if spec.startswith((".", "/", "file:")) or re.match(r"^[a-z+]+://", spec):
        return None
    try:
        return Requirement(spec)
    except InvalidRequirement as exc:
        raise RequirementsError(
            f"{path} has an invalid requirement {spec!r}: {_reason(exc)}."
        ) from exc


def _pinned(requirement: Requirement) -> bool:
    if requirement.url:
        return True
    specifiers = list(requirement.specifier)
    return (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and "*" not in str(specifiers[0].version)
    )


def _all_hashed(lines: Iterable[str]) -> bool:
    requirement_lines = [line for line in lines if not line.startswith("-")]
    return bool(requirement_lines) and all("--hash=" in line for line in requirement_lines)


# ---------------------------------------------------------------------------------------------
# poetry.lock: the main group, markers evaluated for the target


def _poetry_lines(path: Path, lock: dict[str, Any], marker_env: Mapping[str, str]) -> Iterator[str]:
    packages = lock.get("package")
    if not isinstance(packages, list):
        raise RequirementsError(
            f"{path} has no [[package]] entries; regenerate it with poetry lock."
        )
    by_name: dict[str, dict[str, Any]] = {
        canonicalize_name(str(p.get("name", ""))): p for p in packages
    }
    legacy_files = table(lock, "metadata", "files")
    if any("groups" in p for p in packages):
        selected = [p for p in packages if _poetry_main(p, marker_env, path)]
    else:
        selected = _poetry_closure(path, by_name, marker_env)
    for package in sorted(selected, key=lambda p: canonicalize_name(str(p["name"]))):
        yield _poetry_line(path, package, legacy_files)


def _poetry_main(package: dict[str, Any], marker_env: Mapping[str, str], path: Path) -> bool:
    if "main" not in package.get("groups", []):
        return False
    markers = package.get("markers")
    if isinstance(markers, dict):
        markers = markers.get("main")
    return markers is None or _marker(str(markers), path).evaluate({**marker_env, "extra": ""})


def _poetry_closure(
    path: Path, by_name: dict[str, dict[str, Any]], marker_env: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Older locks do not say which group a package is in: walk from pyproject's main deps."""
    pyproject = path.with_name("pyproject.toml")
    if not pyproject.is_file():
        raise RequirementsError(
            f"{path} does not record dependency groups (lock format before 2.1), and there is no "
            f"pyproject.toml beside it to read the main dependencies from."
        )
    project = _toml(pyproject, pyproject.read_bytes())
    roots: list[tuple[str, list[str]]] = []
    poetry_deps = project.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for name, spec in poetry_deps.items():
        if canonicalize_name(name) == "python":
            continue
        extras = spec.get("extras", []) if isinstance(spec, dict) else []
        markers = spec.get("markers") if isinstance(spec, dict) else None
        if markers and not _marker(markers, path).evaluate({**marker_env, "extra": ""}):
            continue
        roots.append((name, list(extras)))
    for dep in project.get("project", {}).get("dependencies", []):
        requirement = Requirement(dep)
        if requirement.marker is None or requirement.marker.evaluate({**marker_env, "extra": ""}):
            roots.append((requirement.name, sorted(requirement.extras)))
    seen: dict[str, dict[str, Any]] = {}
    queue = list(roots)
    while queue:
        name, extras = queue.pop()
        key = canonicalize_name(name)
        package = by_name.get(key)
        if package is None:
            raise RequirementsError(
                f"{path} does not lock {name}, which pyproject.toml requires: run poetry lock."
            )
        if key in seen and not extras:
            continue
        seen[key] = package
        wanted = set(package.get("dependencies", {}))
        optional = package.get("extras", {})
        for extra in extras:
            wanted |= {Requirement(r).name for r in optional.get(extra, [])}
        for dep_name, dep_spec in package.get("dependencies", {}).items():
            for spec in dep_spec if isinstance(dep_spec, list) else [dep_spec]:
                if dep_name not in wanted:
                    continue
                if isinstance(spec, dict):
                    if spec.get("optional") and dep_name not in {
                        Requirement(r).name for e in extras for r in optional.get(e, [])
                    }:
                        continue
                    marker = spec.get("markers")
                    if marker and not _marker(marker, path).evaluate({**marker_env, "extra": ""}):
                        continue
                    queue.append((dep_name, list(spec.get("extras", []))))
                else:
                    queue.append((dep_name, []))
    return list(seen.values())


def _poetry_line(path: Path, package: dict[str, Any], legacy_files: Mapping[str, Any]) -> str:
    name, version = package["name"], package["version"]
    if not isinstance(name, str) or not isinstance(version, str):
        raise TypeError(f"a package's name and version are {name!r:.60} and {version!r:.60}")
    source = package.get("source") or {}
    kind = source.get("type")
    if kind == "git":
        ref = source.get("resolved_reference") or source.get("reference")
        return f"{name} @ git+{source['url']}@{ref}"
    if kind in ("directory", "file"):
        location = (path.parent / source["url"]).resolve()
        return f"{name} @ {location.as_uri()}"
    if kind == "url":
        return f"{name} @ {source['url']}"
    files = package.get("files") or legacy_files.get(name) or []
    hashes = sorted({str(f["hash"]) for f in files if "hash" in f})
    return " ".join([f"{name}=={version}", *(f"--hash={h}" for h in hashes)])


def _marker(text: str, path: Path) -> Marker:
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise RequirementsError(f"{path} has an invalid marker {text!r}: {_reason(exc)}.") from exc


def _reason(exc: Exception) -> str:
    # packaging appends the input and a caret on lines of their own; an error is one line.
    lines = str(exc).splitlines()
    return lines[0].strip() if lines else type(exc).__name__
