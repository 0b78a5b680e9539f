"""Where a dependency's build script runs: out of sight of every process that holds a secret.

An installer that builds an sdist or a local directory runs that package's build script. The
environment the installers get is allow-listed (install.installer_environment), but that hides
nothing from a script that reads `/proc/<pid>/environ` of its ancestors: this tool, the shell
of the CI step, the runner, each started with the job's secrets (and /proc shows the environment
a process was started with, whatever it did to its own since). So an install that may build runs
in a new PID namespace with its own /proc, where only the installer's own processes exist, and
every process left in it is killed when the installer ends: `unshare --pid --fork --mount-proc`
(util-linux; with `--user --map-root-user` when not root), else `bwrap --unshare-pid --proc`
(bubblewrap). In the same mount namespace the home directory is read-only (no shell profile, no
program on a PATH in it, no installer setting, no runner file can be planted there), then the
install's own directories and the project writable again, then the installers' shared caches,
this tool's cache and the repository's .git read-only: nothing a build script writes can be
read later as a cache entry, a setting, a git hook or a workflow command.

Where neither can start (user namespaces off, or restricted by AppArmor as on Ubuntu 24.04 for
programs without a profile), a build from source is refused, unless the caller opts in with
LAMBDA_ZIP_UNSANDBOXED_BUILDS=1; this tool's cache is then marked as open to that build
(`taint`) and no build reads it again.

What remains inside the sandbox: the script runs as this user, can read what this user can
read (files in the home directory, ~/.ssh, the runner's own files) and write what is not listed
above (/tmp, other users' shared directories), and has the network. Build from source only
packages you trust, or use --no-build (the Action's default).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

# Names of variables that hold secrets by every convention CI systems and clouds use.
_SECRET = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|SESSION|AUTH",
    re.IGNORECASE,
)

# Set to 1 to build from source where no sandbox can start.
ALLOW_UNSANDBOXED = "LAMBDA_ZIP_UNSANDBOXED_BUILDS"
# In this tool's cache directory: written before an unsandboxed build script runs.
TAINT_FILE = "UNSANDBOXED-BUILD-RAN"


@dataclass(frozen=True)
class Mounts:
    """What a build script may write, applied in this order inside the sandbox."""

    # Made read-only first: the home directory.
    read_only_first: tuple[Path, ...] = ()
    # Then writable again: the install's working directory, the temporary directory, the project.
    writable: tuple[Path, ...] = ()
    # Then read-only again, inside those: the shared caches and the repository's .git.
    read_only: tuple[Path, ...] = ()

    def existing(self) -> Mounts:
        """These mounts for the directories that exist; a missing cache directory is made
        first, so that a build script cannot make it and fill it."""
        for path in self.read_only:
            if path.name == ".git":
                # Not a repository: making one would make it look like one to git (and to
                # this tool's next build, which would warn that git cannot list it).
                continue
            # What this user cannot make, a script running as this user cannot either.
            with contextlib.suppress(OSError):
                path.mkdir(parents=True, exist_ok=True)
        first = _dirs(self.read_only_first)
        # Only what a read-only directory holds is bound writable again: a writable directory
        # that holds the home (a home under /tmp) would undo it.
        writable = tuple(p for p in _dirs(self.writable)
                         if any(p.is_relative_to(r) for r in first))  # fmt: skip
        return Mounts(first, writable, _dirs(self.read_only))


def _dirs(paths: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(p for p in paths if p.is_dir() and not p.is_symlink()))


@dataclass(frozen=True)
class Sandbox:
    """A way to start a program in its own PID namespace, /proc and mount namespace."""

    kind: str  # "unshare" or "bwrap"
    prefix: tuple[str, ...]
    # unshare: the program that drops every capability before the command runs (setpriv).
    drop: tuple[str, ...] = ()

    def wrap(self, command: Sequence[str], mounts: Mounts) -> list[str]:
        """`command` run in this sandbox with `mounts` applied."""
        if self.kind == "bwrap":
            options = [*(("--ro-bind", str(p), str(p)) for p in mounts.read_only_first),
                       *(("--bind", str(p), str(p)) for p in mounts.writable),
                       *(("--ro-bind", str(p), str(p)) for p in mounts.read_only)]  # fmt: skip
            return [*self.prefix, *(part for option in options for part in option), "--",
                    *command]  # fmt: skip
        steps = [
            *(_read_only(p) for p in mounts.read_only_first),
            *(f"mount --bind {shlex.quote(str(p))} {shlex.quote(str(p))}" for p in mounts.writable),
            *(_read_only(p) for p in mounts.read_only),
        ]
        # The mounts need the namespace's capabilities; the command must not have them, or it
        # unmounts the new /proc (the host's lies below) and remounts the binds writable.
        drop = " ".join(shlex.quote(part) for part in self.drop)
        script = " && ".join([*steps, f'exec {drop} -- "$@"'])
        return [*self.prefix, "/bin/sh", "-c", script, "sh", *command]


def _read_only(path: Path) -> str:
    quoted = shlex.quote(str(path))
    return f"mount --bind {quoted} {quoted} && mount -o remount,bind,ro {quoted}"


def _candidates(
    unshare: str | None, bwrap: str | None, setpriv: str | None, root: bool
) -> list[Sandbox]:
    found = []
    if unshare is not None and setpriv is not None:
        plain = (unshare, "--pid", "--fork", "--mount-proc", "--kill-child")
        user = (unshare, "--user", "--map-root-user", *plain[1:])
        drop = (setpriv, "--no-new-privs", "--inh-caps=-all", "--ambient-caps=-all",
                "--bounding-set=-all")  # fmt: skip
        found += [Sandbox("unshare", plain, drop)] if root else []
        found.append(Sandbox("unshare", user, drop))
    if bwrap is not None:
        # --cap-drop ALL: as root bwrap keeps the capabilities otherwise.
        found.append(Sandbox("bwrap", (bwrap, "--dev-bind", "/", "/", "--unshare-pid", "--proc",
                                       "/proc", "--die-with-parent", "--new-session",
                                       "--cap-drop", "ALL")))  # fmt: skip
    return found


@functools.cache
def _isolation(
    unshare: str | None, bwrap: str | None, setpriv: str | None, root: bool
) -> Sandbox | None:
    with tempfile.TemporaryDirectory(prefix="lambda-zip-probe-") as probe:
        directory = Path(probe)
        mounts = Mounts((directory,), (), (directory,))
        for sandbox in _candidates(unshare, bwrap, setpriv, root):
            try:
                ran = subprocess.run(sandbox.wrap(["/bin/sh", "-c", ":"], mounts),
                                     capture_output=True, stdin=subprocess.DEVNULL, timeout=30,
                                     check=False)  # fmt: skip
            except (OSError, subprocess.TimeoutExpired):
                continue
            if ran.returncode == 0:
                return sandbox
    return None


def isolation(env: Mapping[str, str]) -> Sandbox | None:
    """The first sandbox that starts here (unshare as root, unshare with a user namespace,
    bwrap), checked by starting it once with a read-only mount; None where none does."""
    path = env.get("PATH", os.defpath)
    return _isolation(shutil.which("unshare", path=path), shutil.which("bwrap", path=path),
                      shutil.which("setpriv", path=path), os.geteuid() == 0)  # fmt: skip


def exposure(env: Mapping[str, str]) -> list[str]:
    """What a build script outside a sandbox could read from its ancestors: the names of
    secret-looking variables in `env`, and the runner's own when running in GitHub Actions."""
    found = sorted(name for name, value in env.items() if value and _SECRET.search(name))
    if env.get("GITHUB_ACTIONS") == "true":
        found.append("the runner's (GitHub Actions)")
    return found


def shared_caches(env: Mapping[str, str], tool_cache: Path | None) -> tuple[Path, ...]:
    """The caches later builds read: uv's, pip's and this tool's (the one this build uses and
    the one a build without --cache-dir would use), as `env` places them."""
    home = Path(env.get("HOME") or Path("~").expanduser())
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    found = [
        Path(env["UV_CACHE_DIR"]) if env.get("UV_CACHE_DIR") else base / "uv",
        Path(env["PIP_CACHE_DIR"]) if env.get("PIP_CACHE_DIR") else base / "pip",
        default_tool_cache(env),
    ]
    if tool_cache is not None:
        found.append(tool_cache)
    return tuple(dict.fromkeys(path.resolve() for path in found))


def default_tool_cache(env: Mapping[str, str]) -> Path:
    """This tool's cache directory when no --cache-dir is given (cli.build_cache_dir)."""
    if env.get("LAMBDA_ZIP_CACHE_DIR"):
        return Path(env["LAMBDA_ZIP_CACHE_DIR"]).resolve()
    home = Path(env.get("HOME") or Path("~").expanduser())
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    return base / "lambda-zip"


@dataclass(frozen=True)
class BuildPolicy:
    """How an install that may run a build script runs: in `sandbox` with `mounts`; with no
    sandbox, refused unless `unsandboxed` (then every cache in `taint` is marked first)."""

    sandbox: Sandbox | None = None
    mounts: Mounts = field(default_factory=Mounts)
    exposed: tuple[str, ...] = ()
    unsandboxed: bool = False
    taint: tuple[Path, ...] = ()


def build_policy(
    env: Mapping[str, str], tool_cache: Path | None, project: Path, work: Path
) -> BuildPolicy:
    """The policy for a build in `work` of the project whose repository is `project`."""
    home = Path(env.get("HOME") or Path("~").expanduser()).resolve()
    temporary = Path(env.get("TMPDIR") or tempfile.gettempdir()).resolve()
    project = project.resolve()
    mounts = Mounts(
        read_only_first=(home,),
        writable=(work.resolve(), temporary, project),
        read_only=(*shared_caches(env, tool_cache), project / ".git"),
    )
    return BuildPolicy(
        sandbox=isolation(env),
        mounts=mounts,
        exposed=tuple(exposure(env)),
        unsandboxed=env.get(ALLOW_UNSANDBOXED) == "1",
        taint=tuple(
            dict.fromkeys(
                p / TAINT_FILE for p in (default_tool_cache(env), tool_cache) if p is not None
            )
        ),
    )


def refusal(exposed: Sequence[str]) -> str:
    """Why a build from source is refused where no sandbox starts, and the ways out."""
    reach = f" (here: {', '.join(exposed)})" if exposed else ""
    return (
        "Building from source runs a dependency's build script (an sdist, a local directory, a "
        "VCS checkout), and no sandbox can start here: neither `unshare` (util-linux) nor "
        "`bwrap` (bubblewrap) could open a PID namespace with its own /proc (user namespaces "
        "are off, or restricted by AppArmor, as on Ubuntu 24.04 and GitHub's ubuntu-24.04 "
        "runners). Outside one, the script can read the secrets every process that started it "
        f"was started with, through /proc/<pid>/environ{reach}, and write the caches later "
        "builds trust. Build with --no-build (wheels only; the Action's default); or allow the "
        "sandbox (on Ubuntu 24.04 run `sudo sysctl -w kernel.apparmor_restrict_unprivileged_"
        "userns=0` first, or load the bwrap-userns-restrict AppArmor profile; elsewhere `sysctl "
        "kernel.unprivileged_userns_clone=1`); or, trusting every build script with whatever "
        f"this user can reach, set {ALLOW_UNSANDBOXED}=1 (this tool's cache is then not read "
        "again)."
    )


def taint(marker: Path) -> None:
    """Mark this tool's cache as open to an unsandboxed build script, before it runs."""
    marker.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    marker.write_text(
        f"{stamp}: a build from source ran outside a sandbox ({ALLOW_UNSANDBOXED}"
        "=1); this cache is not read again: delete the directory\n",
        "utf-8",
    )


def tainted(tool_cache: Path) -> bool:
    """True when an unsandboxed build script could have written `tool_cache`."""
    return (tool_cache / TAINT_FILE).exists()
