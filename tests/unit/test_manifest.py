"""manifest: the document written beside the zip, from a real zip of a real tree."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import lambda_zip_action
from lambda_zip_action.archive import ArchiveResult, write_zip
from lambda_zip_action.etags import s3_etags
from lambda_zip_action.installed_tree import Distribution
from lambda_zip_action.manifest import SCHEMA, dumps, manifest_document
from lambda_zip_action.records import file_owners
from lambda_zip_action.stage import collect, merge

REQUESTS = Distribution("requests", "2.32.3", "wheel", ("py3-none-any",))
TARGET = {"python-version": "3.12", "architecture": "x86_64", "layout": "function"}
INPUTS = {"requirements": {"kind": "none"}, "sources": ["src"]}


def trees(tmp_path: Path) -> tuple[Path, Path]:
    deps = tmp_path / "deps"
    for name, data in {
        "requests/__init__.py": b"from .api import get\n",
        "requests/api.py": b"def get(): ...\n",
        "requests/__pycache__/api.cpython-312.pyc": b"pyc",
        "requests-2.32.3.dist-info/METADATA": b"Metadata-Version: 2.1\nName: requests\n",
        "requests-2.32.3.dist-info/licenses/LICENSE": b"Apache-2.0\n",  # not in RECORD
    }.items():
        (deps / name).parent.mkdir(parents=True, exist_ok=True)
        (deps / name).write_bytes(data)
    (deps / "requests-2.32.3.dist-info" / "RECORD").write_text(
        "requests/__init__.py,,\nrequests/api.py,,\nrequests-2.32.3.dist-info/METADATA,,\n"
        "requests-2.32.3.dist-info/RECORD,,\n"
    )
    src = tmp_path / "src"
    src.mkdir()
    (src / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "café.py").write_text("X = 1\n")
    return deps, src


def written(tmp_path: Path, layer: bool = False) -> tuple[ArchiveResult, Path, Path]:
    deps, src = trees(tmp_path)
    entries = merge(collect(deps, "dependency"), collect(src, "source"), layer=layer)
    path = tmp_path / "lambda.zip"
    with path.open("wb") as out:
        result = write_zip(entries, out, 6, 315532800)
    return result, path, deps


def document(tmp_path: Path, **extra: Any) -> tuple[dict[str, Any], Path]:
    result, path, deps = written(tmp_path)
    doc = manifest_document(
        result, (REQUESTS,), TARGET, INPUTS, 6, "1.3.1", owners=file_owners(deps), **extra
    )
    return doc, path


def test_the_archive_section_describes_the_bytes_on_disk(tmp_path: Path) -> None:
    doc, path = document(tmp_path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).digest()
    with zipfile.ZipFile(path) as archive:
        count = len(archive.infolist())
    assert doc["schema"] == SCHEMA == "lambda-zip/manifest/2"
    assert doc["tool"] == {"name": "lambda-zip-action", "version": lambda_zip_action.__version__}
    archive_section = doc["archive"]
    assert archive_section["sha256"] == digest.hex()
    assert archive_section["base64-sha256"] == base64.b64encode(digest).decode()
    assert archive_section["md5"] == hashlib.md5(data).hexdigest()
    assert archive_section["size"] == len(data)
    assert archive_section["entries"] == count == len(doc["entries"])
    assert archive_section["compression-level"] == 6
    assert archive_section["zlib-version"] == "1.3.1"
    assert "s3-etag-5mib" not in archive_section and "s3-etag-8mib" not in archive_section
    assert doc["target"] == TARGET and doc["inputs"] == INPUTS
    assert doc["distributions"] == [
        {"name": "requests", "version": "2.32.3", "source": "wheel", "wheel-tags": ["py3-none-any"]}
    ]


def test_entries_carry_size_hash_mode_and_the_owning_distribution(tmp_path: Path) -> None:
    doc, path = document(tmp_path)
    by_path = {entry["path"]: entry for entry in doc["entries"]}
    with zipfile.ZipFile(path) as archive:
        assert list(by_path) == archive.namelist()  # the archive's order
        api = archive.read("requests/api.py")
    assert by_path["requests/api.py"] == {
        "path": "requests/api.py",
        "size": len(api),
        "sha256": hashlib.sha256(api).hexdigest(),
        "mode": "0644",
        "owner": "requests",
    }
    # Bytecode belongs to its source's distribution; the .dist-info directory to its own.
    assert by_path["requests/__pycache__/api.cpython-312.pyc"]["owner"] == "requests"
    assert by_path["requests-2.32.3.dist-info/"]["owner"] == "requests"
    # Every file of a .dist-info is the distribution's, listed in its RECORD or not: a
    # manifest compared after an upgrade must not count them as the project's own files.
    assert by_path["requests-2.32.3.dist-info/METADATA"]["owner"] == "requests"
    assert by_path["requests-2.32.3.dist-info/licenses/LICENSE"]["owner"] == "requests"
    assert by_path["requests-2.32.3.dist-info/"]["sha256"] is None
    assert by_path["requests-2.32.3.dist-info/"]["mode"] == "0755"
    # The project's own code has no owner.
    assert "owner" not in by_path["handler.py"]
    assert by_path["run.sh"]["mode"] == "0755"
    assert by_path["handler.py"]["mode"] == "0644"
    owned = sorted(path for path, entry in by_path.items() if "owner" in entry)
    assert owned == [
        "requests-2.32.3.dist-info/",
        "requests-2.32.3.dist-info/METADATA",
        "requests-2.32.3.dist-info/RECORD",
        "requests-2.32.3.dist-info/licenses/",
        "requests-2.32.3.dist-info/licenses/LICENSE",
        "requests/__init__.py",
        "requests/__pycache__/api.cpython-312.pyc",
        "requests/api.py",
    ]


def test_a_layer_strips_its_prefix_to_find_owners(tmp_path: Path) -> None:
    result, _, deps = written(tmp_path, layer=True)
    owners = file_owners(deps)
    with_prefix = manifest_document(result, (), {}, {}, 6, "1.3.1", owners=owners, prefix="python/")
    by_path = {entry["path"]: entry for entry in with_prefix["entries"]}
    assert by_path["python/requests/api.py"]["owner"] == "requests"
    assert "owner" not in by_path["python/handler.py"]
    without = manifest_document(result, (), {}, {}, 6, "1.3.1", owners=owners)
    assert not any("owner" in entry for entry in without["entries"])


def test_etags_are_recorded_when_given(tmp_path: Path) -> None:
    result, path, _ = written(tmp_path)
    with path.open("rb") as stream:
        etags = s3_etags(stream)
    doc = manifest_document(result, (), {}, {}, 9, "1.3.1", etags=etags)
    # A zip this small is uploaded in one part: its ETag is its MD5 after either kind of upload.
    assert doc["archive"]["s3-etag-5mib"] == etags.s3_etag_5mib == result.md5
    assert doc["archive"]["s3-etag-8mib"] == etags.s3_etag_8mib == result.md5
    assert doc["archive"]["compression-level"] == 9


def test_dumps_is_deterministic_sorted_utf8_and_free_of_local_paths(tmp_path: Path) -> None:
    doc, _ = document(tmp_path)
    text = dumps(doc)
    assert text.endswith(b"}\n")
    assert json.loads(text) == doc
    assert text == dumps(json.loads(text))  # keys sorted, so any dict order gives these bytes
    assert '"path": "café.py"'.encode() in text  # not \u00e9
    assert str(tmp_path).encode() not in text
    keys = list(json.loads(text))
    assert keys == sorted(keys) == ["archive", "distributions", "entries", "inputs", "schema",
                                    "target", "tool"]  # fmt: skip
