"""Nothing lost: a build that fails or is killed at any stage leaves the previous zip and manifest
byte for byte as they were, and (except for SIGKILL, which nothing can catch) no temporary
directory in TMPDIR and no `.lambda.zip.*.tmp` beside the output.

Every build here is a real `lambda-zip build` subprocess in its own process group, with TMPDIR
set to a directory of the test's own, killed the way CI kills a cancelled job.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import PROJECTS, interpreter, tool_env

DEADLINE = 120.0


def sources_only_project(root: Path, files: dict[str, bytes]) -> Path:
    """A project without dependencies: it builds in half a second, so faults can be swept."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "faults"\nversion = "0"\ndependencies = []\n'
    )
    for name, data in files.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def build_argv(project: Path, output: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lambda_zip_action",
        "build",
        "--project",
        str(project),
        "--output",
        str(output),
        "--python-version",
        "3.12",
        "--python",
        str(interpreter("3.12")),
        "--json",
        *options,
    ]


def start(argv: list[str], tmpdir: Path, **env: str) -> subprocess.Popen[str]:
    tmpdir.mkdir(exist_ok=True)
    # The child gets SIGINT as a job step does. A shell that started these tests in the
    # background left SIGINT ignored, and an ignored signal stays ignored in a child (Python
    # then rightly never raises KeyboardInterrupt); a handled one is reset to the default.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            argv,
            env=tool_env(TMPDIR=str(tmpdir), **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a process group of its own, as a CI runner's job step
        )
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class Snapshot:
    zip: bytes
    manifest: bytes

    @classmethod
    def of(cls, output: Path) -> Snapshot:
        return cls(output.read_bytes(), manifest_of(output).read_bytes())


def manifest_of(output: Path) -> Path:
    return output.with_name(output.name + ".manifest.json")


def sbom_of(output: Path) -> Path:
    return output.with_name(output.name + ".cdx.json")


def leftovers(output: Path, tmpdir: Path) -> list[str]:
    beside = [p.name for p in output.parent.iterdir() if p.name.endswith(".tmp")]
    return beside + [p.name for p in tmpdir.iterdir()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_consistent(output: Path) -> None:
    """The zip is whole and the manifest describes exactly these bytes."""
    assert subprocess.run(["unzip", "-tqq", str(output)], check=False).returncode == 0
    with zipfile.ZipFile(output) as archive:
        assert archive.testzip() is None
    document = json.loads(manifest_of(output).read_text())
    assert document["archive"]["sha256"] == sha256(output)
    assert document["archive"]["size"] == output.stat().st_size


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, Snapshot]:
    """dist/lambda.zip and its manifest from an earlier, successful build."""
    project = sources_only_project(tmp_path / "earlier", {"app/handler.py": b"X = 0\n"})
    output = tmp_path / "dist" / "lambda.zip"
    completed = subprocess.run(
        build_argv(project, output, "--no-compile"),
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return output, Snapshot.of(output)


def wait_for_line(process: subprocess.Popen[str], needle: str) -> list[str]:
    """Read the build's stderr until a line holds `needle`; fail if the build ends first."""
    assert process.stderr is not None
    seen: list[str] = []
    while True:
        line = process.stderr.readline()
        if not line:
            process.wait(DEADLINE)
            pytest.fail(f"the build ended before {needle!r}:\n{''.join(seen)}")
        seen.append(line)
        if needle in line:
            return seen


def wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@contextlib.contextmanager
def silent_index() -> Iterator[str]:
    """A package index that accepts connections and never answers: installs hang in it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_installer_killed_midway(
    signum: int, previous: tuple[Path, Snapshot], tmp_path: Path
) -> None:
    output, before = previous
    tmpdir = tmp_path / "tmpdir"
    with silent_index() as index:
        # A cold cache and an index that never answers: the build is held in the install stage.
        process = start(
            build_argv(PROJECTS / "uvlock", output),
            tmpdir,
            UV_CACHE_DIR=str(tmp_path / "cold-cache"),
            UV_INDEX_URL=index,
            PIP_INDEX_URL=index,
            UV_HTTP_TIMEOUT="600",
        )
        try:
            wait_for_line(process, "Installing dependencies")
            wait_for(lambda: any(tmpdir.glob("lambda-zip-*/requirements*")), "the install")
            time.sleep(0.5)  # let uv start and block on the index
            os.killpg(process.pid, signum)
            _, stderr = process.communicate(timeout=DEADLINE)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "lambda-zip: interrupted; no output was written."
    assert Snapshot.of(output) == before
    assert leftovers(output, tmpdir) == []


def archive_stage_project(tmp_path: Path) -> Path:
    # Incompressible megabytes at level 9 keep the archive stage busy for a moment.
    return sources_only_project(
        tmp_path / "big", {f"app/blob{i}.bin": os.urandom(8 << 20) for i in range(4)}
    )


@pytest.mark.parametrize(
    ("signum", "clean"),
    [(signal.SIGTERM, True), (signal.SIGINT, True), (signal.SIGKILL, False)],
    ids=["SIGTERM", "SIGINT", "SIGKILL"],
)
def test_killed_while_writing_the_archive(
    signum: int, clean: bool, previous: tuple[Path, Snapshot], tmp_path: Path
) -> None:
    output, before = previous
    tmpdir = tmp_path / "tmpdir"
    project = archive_stage_project(tmp_path)
    process = start(
        build_argv(project, output, "--no-compile", "--compression-level", "9", "--jobs", "1"),
        tmpdir,
    )
    try:
        wait_for_line(process, "==> Writing")
        wait_for(lambda: any(output.parent.glob(".lambda.zip.*.tmp")), "the temporary zip")
        os.killpg(process.pid, signum)
        _, stderr = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert Snapshot.of(output) == before
    if clean:
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert leftovers(output, tmpdir) == []
    else:
        # SIGKILL runs no code: the half-written temporary zip and the work directory stay,
        # under names no reader takes for the output. The previous output is still whole.
        assert process.returncode == -signal.SIGKILL
        left = leftovers(output, tmpdir)
        assert [n for n in left if n.endswith(".tmp")], left
        assert all(n.startswith((".lambda.zip.", "lambda-zip-")) for n in left), left
    assert_consistent(output)


@contextlib.contextmanager
def tmpfs(directory: Path, size: int) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("the full-disk tests mount a tmpfs, so they run as root", pytrace=False)
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], check=True
    )
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def test_full_disk(previous: tuple[Path, Snapshot], tmp_path: Path) -> None:
    _, before = previous
    project = sources_only_project(tmp_path / "p", {"app/blob.bin": os.urandom(1 << 20)})
    tmpdir = tmp_path / "tmpdir"
    with tmpfs(tmp_path / "small-disk", 300 * 1024) as disk:
        output = disk / "lambda.zip"
        output.write_bytes(before.zip)
        manifest_of(output).write_bytes(before.manifest)
        process = start(build_argv(project, output), tmpdir)
        stdout, stderr = process.communicate(timeout=DEADLINE)
        assert process.returncode == 2, stderr
        assert stdout == ""
        assert "Traceback" not in stderr
        last = stderr.splitlines()[-1]
        assert last == (
            f"lambda-zip: output error: Writing {output} failed: No space left on device. The "
            "previous output, if any, is untouched. Free some space or choose another --output."
        )
        assert Snapshot.of(output) == before
        assert leftovers(output, tmpdir) == []


def test_every_disk_size_keeps_zip_and_manifest_together(
    previous: tuple[Path, Snapshot], tmp_path: Path
) -> None:
    """Sweep the space left, a page at a time, across every point where a write can fail."""
    _, before = previous
    files = {f"app/m{i:03d}.py": f"X = {i}\n".encode() for i in range(100)}
    project = sources_only_project(tmp_path / "p", files)
    reference = tmp_path / "reference" / "lambda.zip"
    completed = subprocess.run(
        build_argv(project, reference), env=tool_env(), capture_output=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    page = 4096
    needed = (len(before.zip) + len(before.manifest)) // page + 2
    needed += (reference.stat().st_size + manifest_of(reference).stat().st_size) // page + 2
    needed += sbom_of(reference).stat().st_size // page + 1
    outcomes = []
    for pages in range(needed - 12, needed + 3):
        tmpdir = tmp_path / f"tmpdir{pages}"
        with tmpfs(tmp_path / "disk", pages * page) as disk:
            output = disk / "lambda.zip"
            output.write_bytes(before.zip)
            manifest_of(output).write_bytes(before.manifest)
            process = start(build_argv(project, output), tmpdir)
            _, stderr = process.communicate(timeout=DEADLINE)
            assert "Traceback" not in stderr
            assert leftovers(output, tmpdir) == []
            if process.returncode == 0:
                assert output.read_bytes() == reference.read_bytes()
                assert sbom_of(output).read_bytes() == sbom_of(reference).read_bytes()
                assert_consistent(output)
            else:
                assert process.returncode == 2, stderr
                assert "No space left on device" in stderr.splitlines()[-1]
                assert Snapshot.of(output) == before
            outcomes.append(process.returncode)
    assert 0 in outcomes and 2 in outcomes, outcomes  # the sweep crossed the boundary


def test_two_builds_racing_for_one_output(tmp_path: Path) -> None:
    """Two builds of different bytes write one path at once: one whole zip wins."""
    project = sources_only_project(
        tmp_path / "p", {f"app/m{i:03d}.py": f"X = {i}\n".encode() * 50 for i in range(300)}
    )
    output = tmp_path / "dist" / "lambda.zip"
    mismatches = 0
    rounds = 6
    for _ in range(rounds):
        processes = [
            start(build_argv(project, output), tmp_path / f"tmp{i}", SOURCE_DATE_EPOCH=epoch)
            for i, epoch in enumerate(["1700000000", "1800000000"])
        ]
        reported = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=DEADLINE)
            assert process.returncode == 0, stderr
            reported.append(json.loads(stdout)["sha256"])
        assert reported[0] != reported[1]
        assert sha256(output) in reported
        assert subprocess.run(["unzip", "-tqq", str(output)], check=False).returncode == 0
        assert sorted(p.name for p in output.parent.iterdir()) == [
            "lambda.zip",
            "lambda.zip.cdx.json",
            "lambda.zip.manifest.json",
        ]
        document = json.loads(manifest_of(output).read_text())
        assert document["archive"]["sha256"] in reported
        mismatches += document["archive"]["sha256"] != sha256(output)
        sbom = json.loads(sbom_of(output).read_text())
        mismatches += sbom["metadata"]["component"]["hashes"][0]["content"] != sha256(output)
    assert mismatches == 0, f"manifest did not describe the zip in {mismatches}/{rounds} rounds"


# Runs the CLI with pathlib's rename wrapped: SIGKILL right after the rename that lands the zip.
_KILL_AFTER_ZIP_RENAME = """
import os, pathlib, signal, sys
real = pathlib.Path.replace
def replace(self, target):
    result = real(self, target)
    if str(target).endswith(".zip"):
        os.kill(os.getpid(), signal.SIGKILL)
    return result
pathlib.Path.replace = replace
from lambda_zip_action.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_killed_between_the_two_renames(tmp_path: Path) -> None:
    """The zip lands first, then its manifest: a kill in between leaves the new zip beside the
    old manifest (which a reader sees as stale), never a manifest describing a zip that was
    never written."""
    project = sources_only_project(tmp_path / "p", {"app/handler.py": b"X = 1\n"})
    output = tmp_path / "dist" / "lambda.zip"
    first = start(build_argv(project, output), tmp_path / "tmp0")
    assert first.communicate(timeout=DEADLINE)[0] and first.returncode == 0
    before = Snapshot.of(output)
    (project / "src" / "app" / "handler.py").write_bytes(b"X = 2\n")
    argv = build_argv(project, output)
    process = start([argv[0], "-c", _KILL_AFTER_ZIP_RENAME, *argv[3:]], tmp_path / "tmp1")
    process.communicate(timeout=DEADLINE)
    assert process.returncode == -signal.SIGKILL
    assert output.read_bytes() != before.zip  # the new zip landed
    assert manifest_of(output).read_bytes() == before.manifest  # beside the old manifest
    old = json.loads(before.manifest)
    assert old["archive"]["sha256"] != sha256(output)
