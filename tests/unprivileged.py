"""Run a process the way Lambda runs the runtime: unprivileged, and not owning the files.

Lambda extracts the package into a read-only /var/task and runs Python as a user that owns
none of it, so Python can neither write `__pycache__` nor read a file only its owner may read.

Here the interpreters live under /root/.pyenv and /root is mode 0700, so an ordinary user
cannot even start them. Instead the process keeps uid 0 and loses every capability (empty
bounding and inheritable sets, so no execve grants one back): the kernel then checks its
permissions like any user's, CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH included. Trees it must
not own are handed to a separate user (`lzuser`), so it gets their "other" bits, as the
runtime user does on Lambda; files owned by root are checked against their owner bits.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

OWNER = "lzuser"


def _require_root() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail(
            "these tests drop privileges with setpriv (util-linux) and hand files to another "
            "user, so they must run as root: run them with `bash scripts/test` in the container",
            pytrace=False,
        )


def owner_ids() -> tuple[int, int]:
    """uid and gid of the user that owns trees the unprivileged process must not own."""
    _require_root()
    try:
        entry = pwd.getpwnam(OWNER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", OWNER], check=True)
        entry = pwd.getpwnam(OWNER)
    return entry.pw_uid, entry.pw_gid


def unprivileged(argv: Sequence[str]) -> list[str]:
    """`argv` run without any capability: ordinary permission checks apply to it."""
    _require_root()
    return [
        "setpriv",
        "--reuid=0",
        "--regid=0",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        *argv,
    ]


def give_away(tree: Path) -> None:
    """Make `tree` belong to OWNER, so the unprivileged process sees only its "other" bits."""
    uid, gid = owner_ids()
    for directory, dirnames, filenames in os.walk(tree):
        os.chown(directory, uid, gid)
        for name in dirnames + filenames:
            os.chown(Path(directory) / name, uid, gid, follow_symlinks=False)


def make_read_only(tree: Path) -> None:
    """chmod -R a-w, as /var/task is: readable and searchable as extracted, writable by none."""
    subprocess.run(["chmod", "-R", "a-w", str(tree)], check=True)
