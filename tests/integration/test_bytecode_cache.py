"""The build cache: same bytes with or without it, and verify takes only what it checked or
an earlier verify proved."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from support import PROJECTS, interpreter, tool_env


def build(
    project: Path,
    output: Path,
    cache: Path | None,
    command: str = "build",
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable, "-m", "lambda_zip_action", command, "--project", str(project),
        "--python-version", "3.12", "--python", str(interpreter("3.12")),
        "--output", str(output), "--json",
    ]  # fmt: skip
    argv += ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    argv += extra or []
    return subprocess.run(
        argv, env=tool_env(LAMBDA_ZIP_NO_CACHE=None), capture_output=True, text=True, check=False
    )


def sha(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, completed.stderr
    return str(json.loads(completed.stdout)["sha256"])


def test_cached_and_uncached_builds_give_the_same_bytes(tmp_path: Path) -> None:
    project = PROJECTS / "uvlock"
    cache = tmp_path / "cache"
    uncached = sha(build(project, tmp_path / "none.zip", None))
    first = build(project, tmp_path / "first.zip", cache)
    assert "from the bytecode cache" not in first.stderr
    stored = sorted(cache.rglob("*.pyc"))
    assert stored
    second = build(project, tmp_path / "second.zip", cache)
    assert "from the bytecode cache" in second.stderr
    assert sha(first) == sha(second) == uncached
    assert sorted(cache.rglob("*.pyc")) == stored


def test_a_wrong_cache_entry_is_caught_by_verify(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    cache = tmp_path / "cache"
    clean = sha(build(project, tmp_path / "clean.zip", cache))
    # Damage one cached .pyc the way a broken cache would: its code object, not its header.
    victim = sorted(cache.rglob("*.pyc"))[0]
    data = bytearray(victim.read_bytes())
    data[-2] ^= 0x01
    victim.write_bytes(bytes(data))

    # A plain build trusts the cache, so its bytes change...
    assert sha(build(project, tmp_path / "trusting.zip", cache)) != clean
    # ...and verify, whose rebuild compiles every unproven group afresh, says so and names the
    # entry; the wrong entry is removed, so the next build is right again.
    verified = build(project, tmp_path / "verified.zip", cache, command="verify")
    assert verified.returncode == 1, verified.stderr
    assert "NOT reproducible" in verified.stderr
    assert ".pyc: bytecode: header is equal; the code object differs" in verified.stderr
    assert "1 bytecode cache entry the first build used did not match a fresh compile" in (
        verified.stderr
    )
    assert sha(build(project, tmp_path / "after.zip", cache)) == clean


def verify_run(project: Path, output: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return build(project, output, cache, command="verify")


def test_verify_proves_groups_once_then_takes_them_from_the_cache(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    cache = tmp_path / "cache"
    plain = sha(build(project, tmp_path / "plain.zip", cache))
    assert not list(cache.rglob("proven.json"))  # a plain build proves nothing

    first = verify_run(project, tmp_path / "one.zip", cache)
    assert sha(first) == plain
    # The first verify's rebuild found no proof, so it compiled every group itself...
    assert "from the proven bytecode cache" not in first.stderr
    groups = len({p.parent for p in cache.rglob("failed.json")})
    assert f"the rebuild compiled {groups} of {groups} bytecode groups afresh" in first.stderr
    assert f"{groups} newly proven in the cache" in first.stderr
    proofs = sorted(cache.rglob("proven.json"))
    assert len(proofs) == groups
    # ...and the second one takes them (but for a random share it proves again), and proves
    # nothing new.
    second = verify_run(project, tmp_path / "two.zip", cache)
    assert sha(second) == plain
    # (All of them drawn for re-proof, 1 time in 4,096 with four groups, takes none.)
    everything_again = f"the rebuild compiled {groups} of {groups} bytecode groups afresh"
    assert "from the proven bytecode cache" in second.stderr or everything_again in second.stderr
    assert "; 0 newly proven" in second.stderr

    # A change to the project's own code is a new group: compiled afresh, then proven.
    handler = next(p for p in (project / "src").rglob("*.py"))
    handler.write_text(handler.read_text() + "\nCHANGED = 1\n")
    third = verify_run(project, tmp_path / "three.zip", cache)
    assert sha(third) != plain
    assert "; 1 newly proven in the cache" in third.stderr


def test_a_proven_entry_damaged_later_is_not_trusted_by_verify(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    cache = tmp_path / "cache"
    clean = sha(verify_run(project, tmp_path / "clean.zip", cache))
    proof = sorted(cache.rglob("proven.json"))[0]
    victim = sorted(proof.parent.glob("*.pyc"))[0]
    data = bytearray(victim.read_bytes())
    data[-2] ^= 0x01
    victim.write_bytes(bytes(data))

    assert sha(build(project, tmp_path / "trusting.zip", cache)) != clean
    # The proof recorded the file's hash: the rebuild compiles that group afresh instead.
    verified = verify_run(project, tmp_path / "verified.zip", cache)
    assert verified.returncode == 1, verified.stderr
    assert "NOT reproducible" in verified.stderr
    assert ".pyc: bytecode: header is equal; the code object differs" in verified.stderr
    assert "newly proven" not in verified.stderr


def test_a_proven_entry_whose_failures_were_altered_is_not_trusted(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    cache = tmp_path / "cache"
    clean = sha(verify_run(project, tmp_path / "clean.zip", cache))
    # Claim in a proven entry that one of its sources does not compile: a plain build then
    # leaves that .pyc out, and the proof, which records the failures, no longer holds.
    # A dependency's group (a failure in the project's own code stops the build instead).
    entry, runtime_path = next(
        (p.parent, member)
        for p in sorted(cache.rglob("proven.json"))
        if (p.parent / "0.pyc").exists()
        and not (member := _first_member(project, cache, p.parent)).startswith("/var/task/app/")
    )
    (entry / "failed.json").write_text(json.dumps([[runtime_path, "SyntaxError: injected"]]))

    assert sha(build(project, tmp_path / "trusting.zip", cache)) != clean
    verified = verify_run(project, tmp_path / "verified.zip", cache)
    assert verified.returncode == 1, verified.stderr
    assert "NOT reproducible" in verified.stderr
    assert "newly proven" not in verified.stderr
    # The entry the fresh compile contradicts is gone: the next build is right again.
    assert "did not match a fresh compile and was removed from the cache" in verified.stderr
    assert not entry.exists()
    assert sha(build(project, tmp_path / "after.zip", cache)) == clean
    # Damaged cache files are misses, never a traceback.
    other = sorted(cache.rglob("proven.json"))[0].parent
    (other / "failed.json").write_text("null")
    (other / "proven.json").write_text('{"format": ' + "[" * 100_000)
    assert sha(build(project, tmp_path / "damaged.zip", cache)) == clean
    assert sha(verify_run(project, tmp_path / "damaged-verified.zip", cache)) == clean


def _first_member(project: Path, cache: Path, entry: Path) -> str:
    """The runtime path of member 0 of a cached group, found from the zip the group ships in."""
    import zipfile

    data = (entry / "0.pyc").read_bytes()
    with zipfile.ZipFile(next(project.parent.glob("clean.zip"))) as archive:
        for name in archive.namelist():
            if name.endswith(".pyc") and archive.read(name) == data:
                directory, _, filename = ("/" + name).rpartition("/__pycache__/")
                module = filename.split(".")[0]
                return f"/var/task{directory}/{module}.py"
    raise AssertionError("member 0 is in no zip")


def test_a_wrong_deflate_entry_is_caught_by_verify(tmp_path: Path) -> None:
    import struct
    import zlib

    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    cache = tmp_path / "cache"
    clean = sha(verify_run(project, tmp_path / "clean.zip", cache))
    victim = max((p for p in (cache / "deflate").rglob("*") if p.is_file()),
                 key=lambda p: p.stat().st_size)  # fmt: skip
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    other = compressor.compress(b"something else") + compressor.flush()

    # A damaged file (its stream no longer matches the CRC stored with it) is a miss.
    victim.write_bytes(other)
    assert sha(build(project, tmp_path / "damaged.zip", cache)) == clean
    # An entry forged whole, CRC and all, is trusted by a plain build...
    victim.write_bytes(struct.pack(">QI", len(other), zlib.crc32(other)) + other)
    assert sha(build(project, tmp_path / "trusting.zip", cache)) != clean
    # ...not by verify's rebuild, which inflates every hit first: it says so, in words.
    verified = verify_run(project, tmp_path / "verified.zip", cache)
    assert verified.returncode == 1, verified.stderr
    assert "NOT reproducible" in verified.stderr
    assert "cannot be compared entry by entry" in verified.stderr
    assert "Traceback" not in verified.stderr


def test_a_function_file_named_like_a_layer_file_keeps_its_own_bytecode(tmp_path: Path) -> None:
    """With --split both packages compile in one build: src/python/six.py (the function's)
    and the layer's python/six.py must not share a .pyc, cached or not."""
    import zipfile

    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    (project / "src" / "python").mkdir()
    (project / "src" / "python" / "six.py").write_text("X = 1\n")
    cache = tmp_path / "cache"
    split = ["--split"]
    uncached = build(project, tmp_path / "none.zip", None, extra=split)
    cold = build(project, tmp_path / "cold.zip", cache, extra=split)
    warm = build(project, tmp_path / "warm.zip", cache, extra=split)
    assert sha(uncached) == sha(cold) == sha(warm)
    with zipfile.ZipFile(tmp_path / "none.zip") as archive:
        pyc = archive.read("python/__pycache__/six.cpython-312.pyc")
    assert len(pyc) < 400 and b"/var/task/python/six.py" in pyc  # the function's own module
