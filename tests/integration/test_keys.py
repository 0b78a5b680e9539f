"""One spelling of every key: every JSON the CLI writes is kebab-case, in the words the text
output and the Action's outputs use for the same values.

The documents come from the real CLI on a real fixture build: `build --json` (plain, and with
`--split --verify`, which adds the layer and the rebuild), both manifests, `diff --format json`
and `inspect --json`. A manifest of schema 1, written by the previous release for the same
fixture (tests/data/manifest-v1/), still compares: its zip's bytes are those of today's build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import support

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DIGEST = re.compile(r"^(?:[0-9a-f]{32}(?:-[0-9]+)?|[0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$")
# The digests of one zip, as the text block, `--json`, the manifest and the Action name them.
HASHES = {"sha256", "base64-sha256", "md5", "s3-etag-5mib", "s3-etag-8mib", "content-digest"}
V1_MANIFEST = support.DATA / "manifest-v1" / "uvlock.manifest.json"
PROJECT = support.PROJECTS / "uvlock"


def keys(value: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    """(where, key) for every key of every object in a JSON document.

    No document of ours has an object keyed by data (paths and distribution names are values
    in lists), so every key found is a field name and must be kebab-case.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            yield where, key
            yield from keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from keys(item, f"{where}[{index}]")


def cli(*args: str, codes: tuple[int, ...] = (0,)) -> str:
    completed = support.run_cli(*args)
    assert completed.returncode in codes, completed.stderr
    return completed.stdout


def build_args(output: Path, *options: str) -> list[str]:
    python = str(support.interpreter("3.12"))
    return ["build", "--project", str(PROJECT), "--python-version", "3.12", "--python", python,
            "--output", str(output), *options]  # fmt: skip


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every kind of JSON document the CLI writes, from one plain and one split build."""
    root = tmp_path_factory.mktemp("keys")
    plain_zip, split_zip = root / "plain" / "lambda.zip", root / "split" / "lambda.zip"
    built = json.loads(cli(*build_args(plain_zip, "--json")))
    split = json.loads(cli(*build_args(split_zip, "--split", "--verify", "--json")))
    found: dict[str, Any] = {
        "build": built,
        "build --split --verify": split,
        "manifest": json.loads(Path(built["manifest"]).read_text()),
        "layer manifest": json.loads(Path(split["layer"]["manifest"]).read_text()),
        "diff zips": json.loads(
            cli("diff", str(plain_zip), str(split_zip), "--format", "json", codes=(1,))
        ),
        "diff v1 manifest": json.loads(
            cli("diff", str(V1_MANIFEST), str(plain_zip), "--format", "json")
        ),
        "inspect": json.loads(cli("inspect", str(plain_zip), "--format", "json")),
        "inspect layer": json.loads(cli("inspect", split["layer"]["path"], "--format", "json")),
    }
    found["text"] = cli(*build_args(root / "text" / "lambda.zip"))
    return found


def test_every_key_of_every_json_document_is_kebab_case(documents: dict[str, Any]) -> None:
    bad = [
        f"{name}: {where}.{key}"
        for name, document in documents.items()
        if name != "text"
        for where, key in keys(document)
        if not KEBAB.fullmatch(key)
    ]
    assert bad == []
    # The walk saw the documents' deepest parts, not just their top level.
    seen = {key for name, doc in documents.items() if name != "text" for _, key in keys(doc)}
    assert {"size-change", "wheel-tags", "native-libraries", "rebuild-sha256"} <= seen


def test_hash_names_are_the_same_words_in_text_json_manifest_and_action(
    documents: dict[str, Any],
) -> None:
    text: dict[str, str] = {}
    for line in documents["text"].splitlines():
        if line.startswith("  "):
            label, value = line.split()[:2]
            text[label] = value
    built = documents["build"]
    assert {label for label, value in text.items() if DIGEST.fullmatch(value)} == HASHES
    assert {key for key, value in built.items() if DIGEST.fullmatch(str(value))} == HASHES
    # With --verify the layer also has the rebuild's sha256: a digest of another zip.
    layer = documents["build --split --verify"]["layer"]
    assert layer["rebuild-sha256"] == layer["sha256"]
    assert {key for key, value in layer.items() if DIGEST.fullmatch(str(value))} == {
        *HASHES,
        "rebuild-sha256",
    }
    archive = documents["manifest"]["archive"]
    assert {key for key, value in archive.items() if DIGEST.fullmatch(str(value))} == HASHES
    for name in HASHES:
        assert text[name] == built[name] == archive[name], name
    # Every other label of the text block is a key of --json too (size, manifest).
    assert set(text) <= set(built)
    action = yaml.safe_load((support.REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    outputs = set(action["outputs"])
    assert set(text) <= outputs
    assert {f"layer-{label}" for label in text} <= outputs
    assert all(KEBAB.fullmatch(name) for name in outputs)


def test_a_manifest_of_the_previous_release_still_compares(documents: dict[str, Any]) -> None:
    old = json.loads(V1_MANIFEST.read_text())
    assert old["schema"] == "lambda-zip/manifest/1"
    assert "base64_sha256" in old["archive"] and "wheel_tags" in old["distributions"][0]
    result = documents["diff v1 manifest"]
    assert result["identical-bytes"] is True and result["content-identical"] is True
    assert result["old"]["kind"] == "manifest"
    assert result["old"]["sha256"] == documents["build"]["sha256"]
    assert result["distributions"]["unchanged"] == len(documents["build"]["distributions"])
    manifest = documents["manifest"]
    assert manifest["schema"] == "lambda-zip/manifest/2"
    # The same values under the new words.
    assert manifest["archive"]["base64-sha256"] == old["archive"]["base64_sha256"]
    assert manifest["archive"]["s3-etag-5mib"] == old["archive"]["s3_etag_5mib"]
    assert manifest["target"]["python-version"] == old["target"]["python_version"]
    # The same entries; owners only added (a .dist-info's METADATA and licenses now name their
    # distribution, as diff always did when reading a zip), none changed.
    assert [{k: v for k, v in e.items() if k != "owner"} for e in manifest["entries"]] == [
        {k: v for k, v in e.items() if k != "owner"} for e in old["entries"]
    ]
    for new_entry, old_entry in zip(manifest["entries"], old["entries"], strict=True):
        assert old_entry.get("owner") in (None, new_entry.get("owner"))
    assert sum("owner" in e for e in manifest["entries"]) > sum(
        "owner" in e for e in old["entries"]
    )
