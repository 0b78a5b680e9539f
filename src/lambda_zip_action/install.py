"""Install the dependencies for the Lambda platform, then remove what varies between installers.

The installer is a Protocol with two small backends, uv and pip. Both get the same
marker-evaluated requirements file and the same platform ceiling, install into a fresh staging
directory without bytecode, and the result is normalised by one function, so a lock gives the
same tree with either installer.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Protocol

from lambda_zip_action.archive import WrittenEntry
from lambda_zip_action.errors import InstallError, RequirementsError
from lambda_zip_action.requirements import RequirementSet
from lambda_zip_action.runtimes import Architecture, Runtime

# Files the installers write that say who installed, when asked, or from which local path;
# uv adds cache keys (with timestamps) for packages it built from a local directory.
INSTALLER_FILES = ("INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json")
# Lock files installers leave in a --target directory.
TARGET_LEFTOVERS = (".lock",)


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    source: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class InstallRequest:
    requirements: RequirementSet
    runtime: Runtime
    architecture: Architecture
    interpreter: Path
    target: Path
    # Rebuild anything built locally from an sdist instead of taking it from a cache.
    rebuild_sdists: bool = False
    # Refuse source distributions (and local directories, which need a build too).
    no_build: bool = False


@dataclass(frozen=True)
class InstallResult:
    installer: str
    installer_version: str
    distributions: tuple[Distribution, ...]
    # "name version" of every distribution built on this machine (its build backend ran here).
    built_from_source: tuple[str, ...] = ()


class Installer(Protocol):
    name: str

    def version(self) -> str: ...

    def install(self, request: InstallRequest, requirements_file: Path) -> None: ...


def uv_binary() -> str:
    """The uv that ships with this tool (the `uv` wheel), else one on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise InstallError(
                "uv is not installed: install this tool with its dependencies "
                "(pip install lambda-zip-action) or put uv on PATH."
            ) from None
        return found


def _run(command: list[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
    try:
        completed = subprocess.run(
            command,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise InstallError(f"Cannot run {command[0]}: {exc.strerror}.") from exc
    if completed.returncode != 0:
        raise _Failed(completed.stdout + completed.stderr)
    return completed.stdout


class _Failed(Exception):
    def __init__(self, output: str) -> None:
        super().__init__(output)
        self.output = output


class UvInstaller:
    name = "uv"

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._uv = uv_binary()

    def version(self) -> str:
        return _run([self._uv, "--version"], self._env).split()[1]

    def export_lock(self, lock: Path) -> str:
        """uv.lock -> requirements.txt text: main dependencies only, with hashes."""
        command = [
            self._uv, "export", "--frozen", "--format", "requirements-txt", "--no-dev",
            "--no-emit-project", "--no-editable", "--no-header", "--no-annotate",
            "--directory", str(lock.parent),
        ]  # fmt: skip
        try:
            return _run(command, self._env)
        except _Failed as exc:
            raise RequirementsError(
                f"uv could not read {lock}: {_last_lines(exc.output)} "
                "Regenerate the lock with `uv lock`."
            ) from exc

    def install(self, request: InstallRequest, requirements_file: Path) -> None:
        runtime = request.runtime
        command = [
            self._uv, "pip", "install",
            "--target", str(request.target),
            "--python", str(request.interpreter),
            "--python-platform", runtime.uv_platform(request.architecture),
            "--python-version", runtime.python_version,
            # Hardlinks from uv's cache: nothing in the staging tree is modified in place
            # (normalize_tree deletes files and replaces RECORD), so the cache stays intact.
            "--link-mode", "hardlink",
            "--no-progress",
            "-r", str(requirements_file),
        ]  # fmt: skip
        if request.requirements.locked:
            command.append("--no-deps")
        if request.requirements.hashed:
            command.append("--require-hashes")
        if request.rebuild_sdists:
            command.append("--refresh")
        if request.no_build:
            command.append("--no-build")
        _install(command, self._env, request)


class PipInstaller:
    name = "pip"

    def __init__(self, env: Mapping[str, str], python: Path) -> None:
        self._env = env
        self._python = python

    def version(self) -> str:
        try:
            return _run([str(self._python), "-I", "-m", "pip", "--version"], self._env).split()[1]
        except _Failed as exc:
            raise InstallError(
                f"pip is not available for {self._python}: add it with "
                f"`{self._python} -m ensurepip`, or build with --installer uv."
            ) from exc

    def install(self, request: InstallRequest, requirements_file: Path) -> None:
        runtime = request.runtime
        abi = runtime.cache_tag.replace("cpython-", "cp")
        command = [
            str(self._python), "-I", "-m", "pip", "install",
            "--target", str(request.target),
            "--no-compile", "--no-warn-script-location", "--disable-pip-version-check",
            "--no-input", "--progress-bar", "off",
            "--python-version", runtime.python_version,
            "--implementation", "cp",
            "--abi", abi, "--abi", "abi3", "--abi", "none",
        ]  # fmt: skip
        for platform in runtime.pip_platforms(request.architecture):
            command += ["--platform", platform]
        if request.requirements.locked:
            # With the whole closure pinned, pip may build pure-Python sdists; the platform
            # check after installing catches any native code built for the host instead.
            command.append("--no-deps")
        if request.no_build or not request.requirements.locked:
            command.append("--only-binary=:all:")
        if request.no_build:
            # pip builds a local directory or an sdist URL even under --only-binary=:all:.
            _refuse_direct_builds(request)
        if _pip_has_report(self.version()):
            # What each distribution was made from: an sdist's URL even when pip reused the
            # wheel it built last time (its log then says "Using cached ....whl").
            command += ["--report", str(pip_report_path(request))]
        if request.requirements.hashed:
            command.append("--require-hashes")
        if request.rebuild_sdists:
            command.append("--no-cache-dir")
        command += ["-r", str(requirements_file)]
        _install(command, self._env, request)


def _install(command: list[str], env: Mapping[str, str], request: InstallRequest) -> None:
    try:
        _run(command, env)
    except _Failed as exc:
        error = _explain_failure(exc.output, request)
        if request.no_build:
            error = InstallError(
                f"{error.message} Source distributions are refused (--no-build; the Action's "
                "no-build input): lock a version that has a wheel, or allow builds with "
                "no-build: false if you trust that package's build script."
            )
        raise error from None


_DIRECT = re.compile(r"^\s*(?:(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*@\s*)?(?P<url>\S+)")


def _refuse_direct_builds(request: InstallRequest) -> None:
    """Under no_build, refuse requirements that name a directory or an sdist by path or URL."""
    refused = []
    for line in request.requirements.text.splitlines():
        text = line.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not text or text.startswith(("#", "--")):
            continue
        match = _DIRECT.match(text)
        assert match is not None
        url = match.group("url").split(";", 1)[0]
        direct = "@" in text.split(";", 1)[0] or url.startswith(("/", ".", "file:", "-e"))
        if direct and not url.endswith(".whl"):
            refused.append(match.group("name") or url)
    if refused:
        raise InstallError(
            f"{', '.join(refused)} must be built from source (a local directory or a source "
            "archive), and source distributions are refused (--no-build; the Action's no-build "
            "input): publish a wheel and depend on it, or allow builds with no-build: false if "
            "you trust that package's build script."
        )


def pip_report_path(request: InstallRequest) -> Path:
    return request.target.parent / "pip-install-report.json"


def _pip_has_report(version: str) -> bool:
    # `pip install --report` appeared in pip 22.2.
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]]
    return numbers >= [22, 2]


_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


def built_from_source(request: InstallRequest) -> tuple[str, ...]:
    """ "name version" of every distribution that was built on this machine, not downloaded.

    uv writes `uv_build.json` into the .dist-info of every distribution it built (from an
    sdist or a local directory), also when it reuses the wheel from its cache; pip's
    `--report` names the artifact each distribution came from. Neither a WHEEL's
    `Generator` nor its tags tell: a built wheel looks like a downloaded one.
    """
    built = set()
    for marker in request.target.glob("*.dist-info/uv_build.json"):
        built.add(_dist_label(marker.parent))
    report = pip_report_path(request)
    if report.is_file():
        try:
            items = json.loads(report.read_text(encoding="utf-8")).get("install") or []
        except (ValueError, OSError, AttributeError):
            items = []
        for item in items:
            info = item.get("download_info") or {}
            url = str(info.get("url", ""))
            if "dir_info" in info or "vcs_info" in info or not url.endswith(".whl"):
                metadata = item.get("metadata") or {}
                built.add(f"{metadata.get('name', url)} {metadata.get('version', '')}".strip())
    return tuple(sorted(built, key=str.lower))


def _dist_label(dist_info: Path) -> str:
    name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
    return f"{name} {version}".strip()


def install(installer: Installer, request: InstallRequest) -> InstallResult:
    """Install `request.requirements` into `request.target` and normalise the tree."""
    request.target.mkdir(parents=True, exist_ok=True)
    version = installer.version()
    if not request.requirements.empty:
        requirements_file = request.target.parent / "requirements.lambda.txt"
        requirements_file.write_text(request.requirements.text, encoding="utf-8")
        installer.install(request, requirements_file)
    built = built_from_source(request)  # before normalize_tree removes uv's markers
    distributions = normalize_tree(request.target)
    check_platform(distributions, request)
    return InstallResult(installer.name, version, distributions, built)


def normalize_tree(target: Path) -> tuple[Distribution, ...]:
    """Remove what differs between installers and machines; keep what importlib.metadata reads."""
    for leftover in ("bin", *TARGET_LEFTOVERS):
        path = target / leftover
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for directory, dirnames, filenames in os.walk(target):
        if "__pycache__" in dirnames:
            shutil.rmtree(Path(directory) / "__pycache__")
            dirnames.remove("__pycache__")
        for name in filenames:
            if name.endswith((".pyc", ".pyo")):
                (Path(directory) / name).unlink()
    distributions = []
    for dist_info in sorted(target.glob("*.dist-info")):
        source = _source(dist_info)
        for name in INSTALLER_FILES:
            (dist_info / name).unlink(missing_ok=True)
        _rewrite_record(target, dist_info)
        distributions.append(_distribution(dist_info, source))
    return tuple(sorted(distributions, key=lambda d: d.name.lower()))


def _source(dist_info: Path) -> str:
    direct_url = dist_info / "direct_url.json"
    if not direct_url.is_file():
        return "index"
    try:
        data = json.loads(direct_url.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return "direct"
    url = str(data.get("url", ""))
    if "vcs_info" in data:
        vcs = data["vcs_info"]
        return f"{vcs.get('vcs', 'vcs')}+{url}@{vcs.get('commit_id', '')}"
    if url.startswith("file:"):
        # A local path names the build machine: keep the last component only.
        return "file:" + url.rstrip("/").rsplit("/", 1)[-1]
    return url


def _rewrite_record(target: Path, dist_info: Path) -> None:
    """Keep RECORD rows of files that are shipped, sorted, in one line format."""
    record = dist_info / "RECORD"
    if not record.is_file():
        return
    rows = list(csv.reader(io.StringIO(record.read_text(encoding="utf-8"))))
    kept = {}
    for row in rows:
        if not row or not row[0]:
            continue
        path = row[0]
        if ".." in Path(path).parts or path.startswith("/") or "__pycache__" in path:
            continue
        if path.endswith((".pyc", ".pyo")) or not (target / path).is_file():
            continue
        kept[path] = row + [""] * (3 - len(row))
    record_path = f"{dist_info.name}/RECORD"
    kept[record_path] = [record_path, "", ""]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path in sorted(kept):
        writer.writerow(kept[path][:3])
    # A new file renamed over the old: RECORD may be a hardlink into the installer's cache.
    replacement = record.with_name("RECORD.normalized")
    replacement.write_text(out.getvalue(), encoding="utf-8")
    replacement.replace(record)


def record_hashes(target: Path) -> dict[str, str]:
    """Archive-relative path -> sha256 hex, as each wheel's RECORD says the file must be."""
    expected = {}
    for record in sorted(target.glob("*.dist-info/RECORD")):
        for row in csv.reader(io.StringIO(record.read_text(encoding="utf-8"))):
            if len(row) >= 2 and row[1].startswith("sha256="):
                digest = row[1].removeprefix("sha256=")
                padded = digest + "=" * (-len(digest) % 4)
                expected[row[0]] = base64.urlsafe_b64decode(padded).hex()
    return expected


def check_record_hashes(
    written: Iterable[WrittenEntry], expected: Mapping[str, str], prefix: str = ""
) -> None:
    """Every installed file must still be the bytes its wheel shipped.

    Installers link files out of their caches; anything that later edits an installed copy in
    place (a certificate bundle patched, a "quick fix" to a dependency) edits the cache too,
    and every later build would ship it. The hashes come for free: the archive computed them.
    """
    wrong = [
        entry.name
        for entry in written
        if entry.sha256 is not None
        and expected.get(entry.name.removeprefix(prefix), entry.sha256) != entry.sha256
    ]
    if wrong:
        shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        raise InstallError(
            f"Installed files differ from what their wheels' RECORD says: {shown}. The "
            "installer's cache has probably been modified through a hard link; clear it "
            "(`uv cache clean <package>` or `pip cache purge`) and build again. Nothing was "
            "written."
        )


def _distribution(dist_info: Path, source: str) -> Distribution:
    metadata = HeaderParser().parsestr(
        (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
    )
    tags: tuple[str, ...] = ()
    wheel = dist_info / "WHEEL"
    if wheel.is_file():
        parsed = HeaderParser().parsestr(wheel.read_text(encoding="utf-8", errors="replace"))
        tags = tuple(sorted(parsed.get_all("Tag") or ()))
    return Distribution(
        name=str(metadata.get("Name", dist_info.name.split("-")[0])),
        version=str(metadata.get("Version", "")),
        source=source,
        tags=tags,
    )


def check_platform(distributions: tuple[Distribution, ...], request: InstallRequest) -> None:
    """Refuse native code that was built for the host instead of downloaded for the target.

    Installers build sdists on the host; a pure-Python one is fine anywhere, a native one would
    give a library for the wrong glibc or machine, which fails only on Lambda.
    """
    allowed = set(request.runtime.pip_platforms(request.architecture)) | {"any"}
    wrong = []
    for distribution in distributions:
        platforms = {tag.rsplit("-", 1)[-1] for tag in distribution.tags}
        if platforms and not any(p in allowed for p in platforms):
            wrong.append(
                f"{distribution.name} {distribution.version} ({', '.join(sorted(platforms))})"
            )
    if wrong:
        raise InstallError(
            f"No wheel for {request.runtime.identifier} on {request.architecture} "
            f"({request.runtime.uv_platform(request.architecture)}) for: {'; '.join(wrong)}. "
            "The installer built native code for this machine from the source distribution, "
            "which would fail on Lambda. Choose a version that publishes manylinux wheels for "
            "the target, or build that wheel for the target and install it from a local index."
        )


_UV_NO_WHEEL = re.compile(
    r"`?([A-Za-z0-9_.\-]+)(?:==|\s+)v?([0-9][^\s`@]*)`?"
    r".*?(?:doesn't have|has no)[^\n]*(?:wheel|platform)"
)
_PIP_NO_DIST = re.compile(r"No matching distribution found for ([^\s]+)")
_CONNECTION = re.compile(
    r"(?i)(failed to fetch|connection|network|dns|timed out|temporary failure)"
)


def _explain_failure(output: str, request: InstallRequest) -> InstallError:
    target = (
        f"{request.runtime.identifier} on {request.architecture} "
        f"({request.runtime.uv_platform(request.architecture)})"
    )
    match = _UV_NO_WHEEL.search(output) or _PIP_NO_DIST.search(output)
    if match:
        package = " ".join(g for g in match.groups() if g)
        return InstallError(
            f"No wheel of {package} for {target}. Lambda needs a binary wheel built for that "
            "platform: choose a version that publishes one, or another architecture. "
            f"Installer said: {_last_lines(output)}"
        )
    if "hash" in output.lower() and "mismatch" in output.lower():
        return InstallError(
            f"A downloaded file did not match the hash in the lock, so nothing was installed. "
            f"Installer said: {_last_lines(output)}"
        )
    if _CONNECTION.search(output):
        return InstallError(
            f"The installer could not download the dependencies for {target}: check the network "
            f"and the index settings. Installer said: {_last_lines(output)}"
        )
    return InstallError(f"Installing the dependencies for {target} failed: {_last_lines(output)}")


def _last_lines(output: str, count: int = 6) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return " ".join(lines[-count:]) if lines else "(no output)"


def make_installer(name: str, env: Mapping[str, str], python: Path) -> Installer:
    if name == "pip":
        return PipInstaller(env, python)
    return UvInstaller(env)


# What installers may see of the caller's environment: an allow-list, so that a secret under
# any name (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, ACTIONS_ID_TOKEN_REQUEST_TOKEN, a deploy key)
# never reaches a build backend that an sdist runs. Kept: finding programs and a home
# (PATH, HOME, TMPDIR), locale and time zone, proxies and certificate bundles, and the
# installers' own settings (UV_*, PIP_*: indexes and their credentials, caches, offline mode)
# and what git needs for git+ssh requirements. Index credentials therefore do reach a build
# backend that an sdist runs: --no-build is what keeps every build script from running.
ALLOWED_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TEMP", "TMP", "TZ", "LANG",
        "LANGUAGE", "TERM", "NO_COLOR", "SOURCE_DATE_EPOCH", "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME", "XDG_DATA_HOME",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "NIX_SSL_CERT_FILE", "PYTHONHASHSEED", "PYTHONIOENCODING", "PYTHONUTF8",
        "SSH_AUTH_SOCK", "GIT_SSH_COMMAND",
    }
)  # fmt: skip
ALLOWED_PREFIXES = ("LC_", "UV_", "PIP_")


def installer_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The installers' environment: the allow-listed part of the caller's, plus fixed settings."""
    cleaned = {
        name: value
        for name, value in env.items()
        if name in ALLOWED_VARIABLES or name.startswith(ALLOWED_PREFIXES)
    }
    cleaned.setdefault("UV_PYTHON_DOWNLOADS", "never")
    cleaned["PIP_NO_INPUT"] = "1"
    cleaned["PYTHONDONTWRITEBYTECODE"] = "1"
    return cleaned


__all__ = [
    "Distribution",
    "InstallRequest",
    "InstallResult",
    "Installer",
    "PipInstaller",
    "UvInstaller",
    "check_record_hashes",
    "install",
    "installer_environment",
    "make_installer",
    "normalize_tree",
    "record_hashes",
]
