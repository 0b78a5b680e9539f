from __future__ import annotations

import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.proof.diff import diff, diff_exit_code, run_diff
from lambda_zip_action.proof.drift_report import from_diff, render
from lambda_zip_action.proof.model import DiffResult
from lambda_zip_action.proof.render import diff_json, diff_text

import zipcraft


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "build" / "requests"
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("from .api import get\n")
    (root / "api.py").write_text("def get(): ...\n" * 50)
    return root.parent


def zip_r(package: Path, out: Path, *options: str) -> Path:
    subprocess.run(["zip", "-q", "-r", *options, str(out), "."], cwd=package, check=True)
    return out


def set_times(package: Path, atime: int, mtime: int) -> None:
    for path in package.rglob("*"):
        os.utime(path, (atime, mtime))


def kinds(result: DiffResult) -> dict[str, int]:
    return {c.kind: c.count for c in result.container}


def test_seed_scenario_atime_only(package: Path, tmp_path: Path) -> None:
    set_times(package, 1_700_000_000, 1_700_000_000)
    a = zip_r(package, tmp_path / "a.zip")
    set_times(package, 1_700_000_222, 1_700_000_000)  # the files were read: atime moved
    b = zip_r(package, tmp_path / "b.zip")
    result = diff(a, b)
    assert result.content_identical and not result.identical_bytes
    assert diff_exit_code(result) == 1
    # Directories may count too: listing one can itself move its atime (relatime).
    (kind,) = result.container
    assert kind.kind == "extra field 0x5455: atime differs" and kind.count in (2, 3)
    details = {e.entry: e.detail for e in kind.examples}
    assert details["requests/api.py"] == "2023-11-14 22:13:20 vs 22:17:02"
    text = diff_text(result)
    assert f"extra field 0x5455: atime differs in {kind.count} entries (e.g. " in text
    assert "requests/api.py: 2023-11-14 22:13:20 vs 22:17:02" in text
    assert len(text.splitlines()) < 25


def test_seed_scenario_touch(package: Path, tmp_path: Path) -> None:
    set_times(package, 1_700_000_000, 1_700_000_000)
    a = zip_r(package, tmp_path / "a.zip")
    set_times(package, 1_700_000_100, 1_700_000_100)
    b = zip_r(package, tmp_path / "b.zip")
    result = diff(a, b)
    assert result.content_identical and not result.identical_bytes
    found = kinds(result)
    assert found.pop("extra field 0x5455: atime differs") in (2, 3)
    assert found == {"DOS timestamp differs": 3, "extra field 0x5455: mtime differs": 3}


def test_zip_minus_x_differs_only_in_dos_times(package: Path, tmp_path: Path) -> None:
    set_times(package, 1_700_000_000, 1_700_000_000)
    a = zip_r(package, tmp_path / "a.zip", "-X")
    set_times(package, 1_700_000_999, 1_700_000_000)
    same = zip_r(package, tmp_path / "same.zip", "-X")
    assert diff(a, same).identical_bytes  # no extra fields: atime cannot leak in
    assert diff_exit_code(diff(a, same)) == 0
    set_times(package, 1_700_000_100, 1_700_000_100)
    b = zip_r(package, tmp_path / "b.zip", "-X")
    result = diff(a, b)
    assert result.content_identical
    assert kinds(result) == {"DOS timestamp differs": 3}


def test_content_mode_and_distribution_changes(tmp_path: Path) -> None:
    old = zipcraft.deterministic(
        tmp_path / "old.zip",
        {
            "requests-2.31.0.dist-info/METADATA": b"Name: requests\nVersion: 2.31.0\n\nbody\n",
            "urllib3-2.0.0.dist-info/METADATA": b"Name: urllib3\nVersion: 2.0.0\n",
            "idna-3.4.dist-info/METADATA": b"Name: idna\nVersion: 3.4\n",
            "requests/api.py": b"old",
            "requests/gone.py": b"gone",
        },
    )
    new = zipcraft.deterministic(
        tmp_path / "new.zip",
        {
            "requests-2.32.3.dist-info/METADATA": b"Name: requests\nVersion: 2.32.3\n",
            "urllib3-1.26.0.dist-info/METADATA": b"Name: urllib3\nVersion: 1.26.0\n",
            "idna-3.4.dist-info/METADATA": b"Name: idna\nVersion: 3.4\n",
            "certifi-1.dist-info/METADATA": b"Name: certifi\nVersion: 2024.2.2\n",
            "requests/api.py": b"newer",
            "requests/new.py": b"n",
        },
        executable=frozenset({"requests/api.py"}),
    )
    result = diff(old, new)
    assert not result.content_identical
    dists = result.distributions
    assert [(c.name, c.old, c.new) for c in dists.upgraded] == [("requests", "2.31.0", "2.32.3")]
    assert [(c.name, c.old, c.new) for c in dists.downgraded] == [("urllib3", "2.0.0", "1.26.0")]
    assert [d.name for d in dists.added] == ["certifi"] and dists.unchanged == 1
    changed = {c.path: c for c in result.files.changed}
    api = changed["requests/api.py"]
    assert (api.old_size, api.new_size, api.size_change, api.content_changed) == (3, 5, 2, True)
    assert (api.old_mode, api.new_mode) == ("0644", "0755")
    assert [f.path for f in result.files.added if f.path.startswith("requests/")] == [
        "requests/new.py"
    ]
    assert "requests/gone.py" in [f.path for f in result.files.removed]
    assert json.loads(diff_json(result))["content-identical"] is False


def test_layer_distributions_under_python(tmp_path: Path) -> None:
    files = {"python/six-1.16.0.dist-info/METADATA": b"Name: six\nVersion: 1.16.0\n"}
    vendored = {"pkg/_vendor/x-1.dist-info/METADATA": b"Name: x\nVersion: 1\n"}
    a = zipcraft.deterministic(tmp_path / "a.zip", files | vendored)
    b = zipcraft.deterministic(tmp_path / "b.zip", {})
    assert [d.name for d in diff(a, b).distributions.removed] == ["six"]


def test_compression_level_is_named(tmp_path: Path) -> None:
    data = b"import os\n" * 2000
    for level, name in ((1, "a.zip"), (9, "b.zip")):
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
            info = zipfile.ZipInfo("m.py", zipcraft.FIXED)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=level)
    result = diff(tmp_path / "a.zip", tmp_path / "b.zip")
    assert result.content_identical
    assert [c.kind for c in result.container] == [
        "same content, different compressed bytes (another compression level or deflate "
        "implementation)"
    ]


def test_windows_create_system_and_data_descriptors(tmp_path: Path) -> None:
    def write(target: Path | zipcraft.NonSeekable, system: int) -> None:
        with zipfile.ZipFile(target, "w") as zf:
            info = zipfile.ZipInfo("a.txt", zipcraft.FIXED)
            info.external_attr = 0o100644 << 16
            info.create_system = system
            zf.writestr(info, b"a")

    write(tmp_path / "unix.zip", 3)
    write(tmp_path / "win.zip", 0)
    stream = zipcraft.NonSeekable()
    write(stream, 3)
    (tmp_path / "stream.zip").write_bytes(bytes(stream.data))
    assert kinds(diff(tmp_path / "unix.zip", tmp_path / "win.zip")) == {"create_system differs": 1}
    assert kinds(diff(tmp_path / "unix.zip", tmp_path / "stream.zip")) == {
        "data descriptor present in one only": 1
    }


def test_entry_order_and_comment(tmp_path: Path) -> None:
    files = {"a.py": b"a", "b.py": b"b"}
    sorted_zip = zipcraft.deterministic(tmp_path / "s.zip", files)
    with zipfile.ZipFile(tmp_path / "r.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("b.py", "a.py"):
            info = zipfile.ZipInfo(name, zipcraft.FIXED)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
        zf.comment = b"built by hand"
    result = diff(sorted_zip, tmp_path / "r.zip")
    assert result.content_identical
    assert kinds(result) == {"entry order differs": 2, "archive comment differs": 1}
    assert "archive comment differs (b'' vs b'built by hand')" in diff_text(result)


def manifest(path: Path, sha: str, entries: list[dict[str, object]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "schema": "lambda-zip/manifest/2",
                "tool": {"name": "lambda-zip-action", "version": "0.1.0"},
                "archive": {"sha256": sha, "size": 10, "entries": len(entries)},
                "distributions": [{"name": "requests", "version": "2.32.3", "source": "x"}],
                "entries": entries,
            }
        )
    )
    return path


def test_manifests_and_zip_against_manifest(tmp_path: Path) -> None:
    zipped = zipcraft.deterministic(tmp_path / "a.zip", {"requests/": b"", "requests/a.py": b"a"})
    entries: list[dict[str, object]] = [
        {"path": "requests/", "size": 0, "sha256": None, "mode": "0755"},
        {
            "path": "requests/a.py",
            "size": 1,
            "sha256": hashlib.sha256(b"a").hexdigest(),
            "mode": "0644",
        },
    ]
    zip_sha = hashlib.sha256(zipped.read_bytes()).hexdigest()
    m1 = manifest(tmp_path / "m1.json", zip_sha, entries)
    m2 = manifest(tmp_path / "m2.json", "0" * 64, entries)
    assert diff(m1, m1).identical_bytes
    result = diff(m1, m2)
    assert result.content_identical and not result.identical_bytes
    assert not result.container_compared
    against_zip = diff(zipped, m1)
    assert against_zip.identical_bytes and against_zip.content_identical
    assert [d.name for d in against_zip.distributions.added] == ["requests"]


def test_unreadable_inputs_raise(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something/else"}')
    ok = zipcraft.deterministic(tmp_path / "ok.zip", {"a": b"a"})
    with pytest.raises(ArchiveReadError, match="schema is 'something/else'"):
        diff(other, ok)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ArchiveReadError, match="cannot be parsed as JSON"):
        diff(ok, broken)
    bomb = zipcraft.craft(
        tmp_path / "bomb.zip",
        [zipcraft.Member(b"bomb", b"\0" * (4 << 20), method=8, declared_size=10)],
    )
    with pytest.raises(ArchiveReadError, match="exceeds its declared size"):
        diff(ok, bomb)


HOSTILE = [
    "<img src=x onerror=alert(1)>.py",
    "@octocat.py",
    "[link](http://x).py",
    "back`tick``s.py",
    "pi|pe.py",
    "new\nline.py",
]


def test_markdown_escapes_hostile_names(tmp_path: Path) -> None:
    old = zipcraft.deterministic(tmp_path / "old.zip", {"a.py": b"a"})
    new = zipcraft.deterministic(tmp_path / "new.zip", {name: b"x" for name in HOSTILE})
    markdown = render(from_diff(diff(old, new), "new.zip"), full=True)
    # Names are shown as code spans, where HTML, links and mentions are inert text.
    for name in HOSTILE[:3]:
        assert markdown.count(name) == markdown.count(f"`{name}`") >= 1
    assert "| `pi\\|pe.py` | added | +1 bytes |" in markdown
    assert "- added ```back`tick``s.py``` (+1 bytes)" in markdown
    assert "new\nline" not in markdown and "new\u2424line.py" in markdown
    text, code = run_diff(old, new, "text")
    assert code == 1 and "new\\x0aline.py" in text


def test_json_is_stable(package: Path, tmp_path: Path) -> None:
    a = zip_r(package, tmp_path / "a.zip")
    first, code = run_diff(a, a, "json")
    again, _ = run_diff(a, a, "json")
    assert code == 0 and first == again
    data = json.loads(first)
    assert data["identical-bytes"] is True and data["container"] == []
    assert list(data) == sorted(data)


def test_text_and_markdown_count_the_same_files(tmp_path: Path) -> None:
    """Text counted directory entries as files ("7 added"), markdown did not ("5 added")."""
    from lambda_zip_action.proof.render import diff_text

    old, new = tmp_path / "old.zip", tmp_path / "new.zip"
    with zipfile.ZipFile(old, "w") as archive:
        archive.writestr("app.py", "A = 1\n")
    with zipfile.ZipFile(new, "w") as archive:
        archive.writestr("app.py", "A = 1\n")
        archive.writestr("pkg/", "")
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/mod.py", "B = 2\n")
    result = diff(old, new)
    assert "Files: 2 added (+1 directory), 0 removed, 0 changed" in diff_text(result)
    assert "All 2 changed files" in render(from_diff(result, "fn"))
