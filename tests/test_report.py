from __future__ import annotations

import zipfile
from pathlib import Path

from markdown_it import MarkdownIt

from lambda_zip_action.diff import diff
from lambda_zip_action.limits import ZIPPED_LIMIT
from lambda_zip_action.report import DriftReport, Package, render

OLD = Package("a" * 64, "qqqq", 1000, 5000, True)
NEW = Package("b" * 64, "u7u7", 1200, 5600, True)


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return path


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def html(markdown: str) -> str:
    return MarkdownIt("gfm-like").render(markdown)


def test_verdicts() -> None:
    assert render(DriftReport("fn", NEW, None)).startswith(
        "### Lambda package fn: built (nothing to compare against)"
    )
    assert "fn: changed" in render(DriftReport("fn", NEW, OLD, "main"))
    same = Package(NEW.sha256, NEW.base64_sha256)
    text = render(DriftReport("fn", NEW, same, "compare-to"))
    assert "fn: unchanged" in text
    assert f"`{NEW.sha256}`" in text


def test_sizes_against_lambda_limits() -> None:
    text = render(DriftReport("fn", NEW, OLD, "main"))
    assert "(+200 bytes)" in text and "(+600 bytes)" in text
    big = Package("c" * 64, None, ZIPPED_LIMIT + 1, 10, None)
    text = render(DriftReport("fn", big, None))
    assert "Over Lambda's zipped size limit" in text
    assert "new not verified" in text


def test_dependencies_files_and_details(tmp_path: Path) -> None:
    old = make_zip(
        tmp_path / "old.zip",
        {
            "six-1.0.dist-info/METADATA": metadata("six", "1.0"),
            "old-2.0.dist-info/METADATA": metadata("old", "2.0"),
            "down-3.0.dist-info/METADATA": metadata("down", "3.0"),
            "app.py": b"x = 1\n",
            "gone.py": b"",
        },
    )
    new = make_zip(
        tmp_path / "new.zip",
        {
            "six-1.1.dist-info/METADATA": metadata("six", "1.1"),
            "fresh-0.1.dist-info/METADATA": metadata("fresh", "0.1"),
            "down-3.0.dist-info/METADATA": metadata("down", "2.9"),
            "app.py": b"x = 2 + 2\n",
            "big.bin": b"\0" * 5000,
        },
    )
    text = render(DriftReport("fn", NEW, OLD, "main", diff(old, new)))
    assert "| `fresh` | added |  | `0.1` |" in text
    assert "| `old` | removed | `2.0` |  |" in text
    assert "| `six` | upgraded | `1.0` | `1.1` |" in text
    assert "| `down` | downgraded | `3.0` | `2.9` |" in text
    assert "Files: 3 added, 3 removed, 2 changed" in text
    largest = text.split("**Largest changes**")[1]
    assert largest.index("big.bin") < largest.index("app.py")
    assert "<details><summary>All 8 changed files</summary>" in text
    assert text.rstrip().endswith("</details>")
    assert "old reproducible" in text


def test_untrusted_names_are_inert(tmp_path: Path) -> None:
    hostile_file = "@admin <img src=x onerror=alert(1)> [x](https://evil.example) |pipe|.py"
    hostile_dist = "evil](https://evil.example)"
    old = make_zip(tmp_path / "old.zip", {})
    new = make_zip(
        tmp_path / "new.zip",
        {
            hostile_file: b"1",
            "e-1.dist-info/METADATA": metadata(hostile_dist, "1.0 <b>bold</b>"),
        },
    )
    text = render(DriftReport("@team <script>", NEW, OLD, "main", diff(old, new)))
    rendered = html(text)
    assert "<img" not in rendered and "<script" not in rendered and "<b>" not in rendered
    assert 'href="https://evil.example"' not in rendered
    assert "@team" not in text  # broken by a word joiner, so GitHub does not mention anyone
    # Table rows keep their three columns despite the pipes in the name.
    rows = [line for line in text.splitlines() if "pipe" in line and line.startswith("|")]
    assert rows and all(line.count(" | ") == 2 for line in rows)


def test_bare_hash_has_no_file_comparison() -> None:
    text = render(DriftReport("fn", NEW, Package("d" * 64, None), "compare-to"))
    assert "bare hash" in text
    assert "<details>" not in text
