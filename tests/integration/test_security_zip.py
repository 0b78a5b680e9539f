"""Finding 7: hostile zips. One budget for the whole archive; duplicate names are content.

The bomb: a zip64 archive whose central directory holds 200,000 records named
`x-1.dist-info/METADATA`, all pointing at one deflated block of METADATA-looking text. Each
record alone is honest; read one by one (the METADATA reads had no budget), they made
`inspect` decompress 200,000 times.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from lambda_zip_action.zip.reader import ZipReader

import support
from zipcraft import Member, craft

NAME = b"x-1.dist-info/METADATA"


def overlapping_bomb(path: Path, count: int, text_size: int = 256 * 1024) -> Path:
    text = b"Metadata-Version: 2.1\nName: x\nVersion: 1\n" + b"A" * text_size
    payload = zlib.compress(text, 9)[2:-4]
    crc = zlib.crc32(text)
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 33, crc, len(payload), len(text), len(NAME), 0
    )
    body = local + NAME + payload
    record = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0, 8, 0, 33, crc, len(payload),
            len(text), len(NAME), 0, 0, 0, 0, 0o100644 << 16, 0,
        )
        + NAME
    )  # fmt: skip
    central = record * count
    cd_offset = len(body)
    eocd64_offset = cd_offset + len(central)
    eocd64 = struct.pack(
        "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central), cd_offset
    )
    locator = struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(body + central + eocd64 + locator + eocd)
    return path


def run_cli(*args: str) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """The CLI's result, its wall time and its peak memory (KiB)."""
    script = (
        "import resource, subprocess, sys, json\n"
        "c = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps([c.returncode, c.stdout, c.stderr, peak]))\n"
    )
    started = time.monotonic()
    outer = subprocess.run(
        [sys.executable, "-c", script, sys.executable, "-m", "lambda_zip_action", *args],
        capture_output=True, text=True, check=True, timeout=600, env=support.tool_env(),
    )  # fmt: skip
    seconds = time.monotonic() - started
    code, out, err, peak = json.loads(outer.stdout)
    return subprocess.CompletedProcess(args, code, out, err), seconds, peak


def test_200000_metadata_records_on_one_block_are_refused_fast(tmp_path: Path) -> None:
    bomb = overlapping_bomb(tmp_path / "bomb.zip", 200_000)
    # The attack: every record is a readable METADATA as far as Python's zipfile goes.
    with zipfile.ZipFile(bomb) as archive:
        infos = archive.infolist()
        assert len(infos) == 200_000
        assert archive.read(infos[-1]).startswith(b"Metadata-Version")
    for command in (["inspect", str(bomb)], ["diff", str(bomb), str(bomb)]):
        completed, seconds, peak_kib = run_cli(*command)
        assert completed.returncode == 2, completed.stdout + completed.stderr
        assert "200000 entries" in completed.stderr + completed.stdout
        assert "Traceback" not in completed.stderr
        assert seconds < 20, f"{command[0]} took {seconds:.1f} s"
        assert peak_kib < 300 * 1024, f"{command[0]} used {peak_kib // 1024} MiB"


def test_a_bomb_under_the_entry_limit_reads_the_shared_block_once(tmp_path: Path) -> None:
    bomb = overlapping_bomb(tmp_path / "bomb.zip", 90_000)
    # Read naively, 90,000 METADATA heads of 256 KiB would be 22 GiB of inflating.
    completed, seconds, peak_kib = run_cli("inspect", "--format", "json", str(bomb))
    assert completed.returncode == 1, completed.stderr
    codes = {finding["code"] for finding in json.loads(completed.stdout)["findings"]}
    assert {"overlapping-entries", "duplicate-name", "budget-exceeded"} <= codes
    assert seconds < 60, f"inspect took {seconds:.1f} s"
    assert peak_kib < 1024 * 1024, f"inspect used {peak_kib // 1024} MiB"


def test_the_wall_clock_budget_stops_reading(tmp_path: Path) -> None:
    from lambda_zip_action.errors import ArchiveReadError
    from lambda_zip_action.zip.budget import ReadLimits

    bomb = overlapping_bomb(tmp_path / "bomb.zip", 1000)
    with (
        pytest.raises(ArchiveReadError, match="longer than"),
        ZipReader(bomb, ReadLimits(max_seconds=0.0)) as reader,
    ):
        reader.hash_entry(reader.archive.entries[0])


# Duplicate names ----------------------------------------------------------------------------


def two_handlers(tmp_path: Path) -> tuple[Path, Path]:
    benign = craft(tmp_path / "benign.zip", [Member(b"handler.py", b"print('benign')\n")])
    hostile = craft(
        tmp_path / "hostile.zip",
        [
            Member(b"handler.py", b"print('benign')\n"),
            Member(b"handler.py", b"print('hostile')\n"),
        ],
    )
    return benign, hostile


def test_extractors_take_the_last_copy(tmp_path: Path) -> None:
    support.require_tools("unzip")
    _, hostile = two_handlers(tmp_path)
    with zipfile.ZipFile(hostile) as archive:
        archive.extractall(tmp_path / "python")
    assert (tmp_path / "python" / "handler.py").read_text() == "print('hostile')\n"
    out = tmp_path / "unzip"
    subprocess.run(["unzip", "-o", "-q", str(hostile), "-d", str(out)], check=False)
    assert (out / "handler.py").read_text() == "print('hostile')\n"


def test_diff_calls_a_duplicate_a_content_difference(tmp_path: Path) -> None:
    benign, hostile = two_handlers(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "diff", str(benign), str(hostile)],
        capture_output=True, text=True, check=False, env=support.tool_env(),
    )  # fmt: skip
    assert completed.returncode == 1, completed.stderr
    assert "container-only" not in completed.stdout
    assert "content differs" in completed.stdout
    assert "~ handler.py" in completed.stdout  # the extracted (last) copy changed
    assert "new: handler.py" in completed.stdout
    # Even when the last copy matches, the hidden first copy is still a content difference.
    reverse = craft(
        tmp_path / "reverse.zip",
        [Member(b"handler.py", b"print('hostile')\n"), Member(b"handler.py", b"print('benign')\n")],
    )
    again = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "diff", "--format", "json", str(benign),
         str(reverse)],
        capture_output=True, text=True, check=False, env=support.tool_env(),
    )  # fmt: skip
    document = json.loads(again.stdout)
    assert document["content-identical"] is False
    assert document["duplicate-names"] == ["new: handler.py"]


def test_inspect_names_the_copy_extractors_use(tmp_path: Path) -> None:
    _, hostile = two_handlers(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "inspect", "--format", "json", str(hostile)],
        capture_output=True, text=True, check=False, env=support.tool_env(),
    )  # fmt: skip
    assert completed.returncode == 1
    [finding] = [
        f for f in json.loads(completed.stdout)["findings"] if f["code"] == "duplicate-name"
    ]
    assert finding["severity"] == "error"
    assert "extract the last one" in finding["message"] and "entry 1" in finding["message"]
