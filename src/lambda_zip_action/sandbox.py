"""Where a dependency's build script runs: out of sight of every process that holds a secret.

An installer that builds an sdist or a local directory runs that package's build script. The
environment the installers get is allow-listed (install.installer_environment), but that hides
nothing from a script that reads `/proc/<pid>/environ` of its ancestors: this tool, the shell
of the CI step, the runner, each started with the job's secrets. So an install that may build
runs in a new PID namespace with its own /proc (`unshare --pid --mount-proc`, with a user
namespace when not root), where only the installer's own processes exist. Where that is not
possible, a build with secrets in reach is refused (`exposure` names what is in reach), unless
nothing may be built at all (`--no-build`).

What remains: the build script still runs as this user, with this user's files (the uv and
pip caches, ~/.ssh, the project), and with the network. Build from source only packages you
trust, or use --no-build (the Action's default).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

# Names of variables that hold secrets by every convention CI systems and clouds use.
_SECRET = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|SESSION|AUTH",
    re.IGNORECASE,
)


@functools.cache
def _isolation(unshare: str | None, root: bool) -> tuple[str, ...] | None:
    if unshare is None:
        return None
    command = [unshare, "--pid", "--fork", "--mount-proc", "--kill-child"]
    if not root:
        command[1:1] = ["--user", "--map-root-user"]
    try:
        probe = subprocess.run([*command, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return tuple(command) if probe.returncode == 0 else None


def isolation(env: Mapping[str, str]) -> tuple[str, ...] | None:
    """The command prefix that runs a program in its own PID namespace and /proc, or None
    where this machine does not allow it (no unshare; unprivileged user namespaces off)."""
    return _isolation(shutil.which("unshare", path=env.get("PATH", os.defpath)), os.geteuid() == 0)


def exposure(env: Mapping[str, str]) -> list[str]:
    """What a build script outside a sandbox could read from its ancestors: the names of
    secret-looking variables in `env`, and the runner's own when running in GitHub Actions."""
    found = sorted(name for name, value in env.items() if value and _SECRET.search(name))
    if env.get("GITHUB_ACTIONS") == "true":
        found.append("the runner's (GitHub Actions)")
    return found


def shared_caches(env: Mapping[str, str], tool_cache: Path | None) -> tuple[Path, ...]:
    """The caches later builds read: uv's, pip's and this tool's, as `env` places them."""
    home = Path(env.get("HOME") or Path("~").expanduser())
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    found = [
        Path(env["UV_CACHE_DIR"]) if env.get("UV_CACHE_DIR") else base / "uv",
        Path(env["PIP_CACHE_DIR"]) if env.get("PIP_CACHE_DIR") else base / "pip",
    ]
    if tool_cache is not None:
        found.append(tool_cache)
    return tuple(dict.fromkeys(path.resolve() for path in found))
