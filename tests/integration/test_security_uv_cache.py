"""A file of a locked wheel edited inside uv's cache, with its RECORD row to match.

uv checks a wheel's hash when it downloads it, then keeps it unpacked in its cache
(archive-v0/<id>/) and links installs from there without checking again. Whatever can write
that cache as this user (an unsandboxed build script of an earlier build, any other program
running as the user) could make every later install ship an edited `six.py` under the lock's
hash; verify's rebuild, installing from the same cache, agreed byte for byte and called it
reproducible (`--no-cache` only concerns this tool's cache). The rebuild now installs every
wheel with a fresh, empty installer cache, downloading it again and checking it against the
lock's hash, so an edited cache makes the two builds differ, and verify names the file.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import support

SIX = (
    "six==1.17.0 \\\n"
    "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274 \\\n"
    "    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81\n"
)
FORGED = b"\nFORGED_IN_THE_CACHE = True\n"


def _cli(*args: str | Path, uv_cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", *map(str, args), "--python-version", "3.12",
         "--python", str(support.interpreter("3.12"))],
        env=support.tool_env(UV_CACHE_DIR=str(uv_cache)), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip


def _forge(uv_cache: Path) -> Path:
    """Append a line to every cached six.py of 1.17.0 and rewrite its RECORD row to match."""
    forged = []
    for module in uv_cache.glob("archive-v0/*/six.py"):
        record = module.parent / "six-1.17.0.dist-info" / "RECORD"
        if not record.is_file():
            continue
        with module.open("ab") as handle:  # in place: the same inode every link shares
            handle.write(FORGED)
        data = module.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows = [f"six.py,sha256={digest},{len(data)}" if row.startswith("six.py,") else row
                for row in record.read_text().splitlines()]  # fmt: skip
        record.write_text("\n".join(rows) + "\n")
        forged.append(module)
    assert forged, f"no six 1.17.0 unpacked in {uv_cache}"
    return forged[0]


def test_a_file_edited_in_uvs_cache_is_not_called_reproducible(tmp_path: Path) -> None:
    project = tmp_path / "fn"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("import six\n")
    (project / "requirements.txt").write_text(SIX)
    uv_cache = tmp_path / "uv-cache"
    first = _cli("build", "--project", project, "--output", tmp_path / "first.zip",
                 uv_cache=uv_cache)  # fmt: skip
    assert first.returncode == 0, support.explain(first)
    _forge(uv_cache)

    output = tmp_path / "verified.zip"
    verified = _cli("verify", "--project", project, "--output", output, "--no-cache",
                    uv_cache=uv_cache)  # fmt: skip
    # The build itself installs from uv's cache and ships the edited file (the attack is
    # real); the rebuild, from a fresh cache, does not, and verify says so, naming the file.
    with zipfile.ZipFile(output) as archive:
        assert archive.read("six.py").endswith(FORGED)
    assert verified.returncode == 1, support.explain(verified)
    assert "NOT reproducible" in verified.stdout, support.explain(verified)
    assert "six.py" in verified.stdout
