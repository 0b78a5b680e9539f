"""The one report a reviewer reads: summary line first, own code, dependencies, size, hashes.

The same renderer makes the Action's summary, the pull-request comment and `lambda-zip diff
--format markdown`. It is checked as GitHub would show it: rendered by markdown-it-py's
GFM-like preset, and once in headless Chromium, whose screenshot must show the summary line.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from markdown_it import MarkdownIt

from lambda_zip_action.limits import ZIPPED_LIMIT
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.drift_report import SHOWN, DriftReport, Package, from_diff, render

import support

OLD = Package("a" * 64, "qqqq", 1000, 5000, True)
NEW = Package("b" * 64, "u7u7", 1200, 5600, True)


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return path


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def dist(name: str, version: str, files: dict[str, bytes]) -> dict[str, bytes]:
    """A distribution's files, its METADATA and a RECORD that lists them."""
    info = f"{name}-{version}.dist-info"
    record = "".join(f"{path},,\n" for path in files) + f"{info}/METADATA,,\n{info}/RECORD,,\n"
    return {**files, f"{info}/METADATA": metadata(name, version), f"{info}/RECORD": record.encode()}


def html(markdown: str) -> str:
    rendered: str = MarkdownIt("gfm-like").render(markdown)
    return rendered


def upgrade(tmp_path: Path) -> tuple[Path, Path]:
    old = make_zip(
        tmp_path / "old.zip",
        {
            **dist("requests", "2.32.3", {"requests/__init__.py": b"v = 3\n",
                                          "requests/api.py": b"x\n"}),
            **dist("six", "1.16.0", {"six.py": b"six\n"}),
            **dist("gone", "1.0", {"gone/__init__.py": b""}),
            "app/handler.py": b"x = 1\n",
            "app/__pycache__/handler.cpython-312.pyc": b"pyc1",
            "app/old.py": b"",
        },
    )  # fmt: skip
    new = make_zip(
        tmp_path / "new.zip",
        {
            **dist("requests", "2.32.4", {"requests/__init__.py": b"v = 4\n",
                                          "requests/api.py": b"x\n"}),
            **dist("six", "1.16.0", {"six.py": b"six\n"}),
            **dist("fresh", "0.1", {"fresh.py": b"f" * 100}),
            "app/handler.py": b"x = 2 + 2\n",
            "app/__pycache__/handler.cpython-312.pyc": b"pyc22",
            "app/new.py": b"new\n",
        },
    )  # fmt: skip
    return old, new


def test_verdicts_and_summary_lines() -> None:
    first = render(DriftReport("fn", NEW, None))
    assert first.startswith("### Lambda package fn: built (nothing to compare against)\n")
    assert "**first build, nothing to compare against, reproducible**" in first
    same = Package(NEW.sha256, NEW.base64_sha256)
    text = render(DriftReport("fn", NEW, same, "compare-to"))
    assert text.splitlines()[0] == "### Lambda package fn: unchanged"
    assert "<strong>same bytes as compare-to, reproducible</strong>" in html(text)
    assert f"`{NEW.sha256}`" in text  # full hashes stay, folded


def test_summary_line_names_upgrades_own_files_size_and_proof(tmp_path: Path) -> None:
    old, new = upgrade(tmp_path)
    text = render(DriftReport("fn", NEW, OLD, "main", diff(old, new)))
    line = html(text.splitlines()[2])
    assert line == (
        "<p><strong>requests 2.32.3 → 2.32.4, fresh 0.1 added, 1 more dependency "
        "changes, 3 of your files changed, +200 bytes zipped, reproducible</strong></p>\n"
    ), line


def test_own_code_comes_before_dependencies_and_dist_info_churn_is_one_line(
    tmp_path: Path,
) -> None:
    old, new = upgrade(tmp_path)
    text = render(DriftReport("fn", NEW, OLD, "main", diff(old, new)))
    own = text.index("#### Your code: 3 files (and their 1 .pyc)")
    deps = text.index(
        "#### Dependencies: 1 upgraded, 0 downgraded, 1 added, 1 removed, 1 unchanged"
    )
    size = text.index("Size: ")
    assert own < deps < size < text.index("sha256: ")
    own_section = text[own:deps]
    assert "`app/handler.py` | changed" in own_section and "`app/new.py` | added" in own_section
    assert "requests" not in own_section and "dist-info" not in own_section
    assert "| `requests` | upgraded | `2.32.3` | `2.32.4` | 2 added, 1 changed, 2 removed" in text
    assert "| `fresh` | added |  | `0.1` |" in text
    assert "| `gone` | removed | `1.0` |  |" in text
    folded = text.split("<details><summary>All ")[1]
    assert "- `requests`: 2 added, 1 changed, 2 removed" in folded
    assert "METADATA" not in folded  # one line per distribution
    full = render(DriftReport("fn", NEW, OLD, "main", diff(old, new)), full=True)
    assert "requests-2.32.4.dist-info/METADATA" in full and "<details><summary>All" not in full


def test_hashes_fit_the_page(tmp_path: Path) -> None:
    old, new = upgrade(tmp_path)
    text = render(DriftReport("fn", NEW, OLD, "main", diff(old, new)))
    visible = text.split("<details><summary>Full hashes</summary>")[0]
    assert "a" * 64 not in visible and "aaaaaaaaaaaa…aaaa" in visible
    assert max(len(line) for line in visible.splitlines() if "sha256" in line) < 100


def test_sizes_against_lambda_limits() -> None:
    text = render(DriftReport("fn", NEW, OLD, "main"))
    assert "1.2 KiB zipped (+200 bytes)" in text and "5.5 KiB unzipped (+600 bytes)" in text
    big = Package("c" * 64, None, ZIPPED_LIMIT + 1, 10, None)
    text = render(DriftReport("fn", big, None))
    assert "of Lambda's 50 MiB **over the limit**" in text
    assert "new not verified" in text


def test_long_lists_are_folded(tmp_path: Path) -> None:
    old = make_zip(tmp_path / "old.zip", {"keep.py": b""})
    new = make_zip(tmp_path / "new.zip", {f"m{i:03d}.py": b"x" for i in range(40)})
    text = render(DriftReport("fn", NEW, OLD, "main", diff(old, new)))
    own = text.split("#### Your code")[1].split("Size:")[0]
    visible = own.split("<details>")[0]
    assert visible.count("\n| `") == SHOWN
    assert f"<details><summary>{41 - SHOWN} more</summary>" in own


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
    rows = [line for line in text.splitlines() if "pipe" in line and line.startswith("|")]
    assert rows and all(line.count(" | ") == 2 for line in rows)


def test_bare_hash_has_no_file_comparison() -> None:
    text = render(DriftReport("fn", NEW, Package("d" * 64, None), "compare-to"))
    assert "bare hash" in text
    assert "<details><summary>All" not in text


def test_diff_markdown_is_the_same_report(tmp_path: Path) -> None:
    old, new = upgrade(tmp_path)
    completed = support.run_cli("diff", str(old), str(new), "--format", "markdown")
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == render(from_diff(diff(old, new), "new.zip"))
    assert "#### Your code" in completed.stdout and "#### Dependencies" in completed.stdout
    full = support.run_cli("diff", str(old), str(new), "--format", "markdown", "--full")
    assert "requests-2.32.4.dist-info/RECORD" in full.stdout


PAGE = """<!doctype html><meta charset="utf-8"><style>
body {{ font: 14px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; width: 780px;
       margin: 16px; color: #1f2328 }}
table {{ border-collapse: collapse }} td, th {{ border: 1px solid #d1d9e0; padding: 4px 10px }}
code {{ background: #eff1f3; padding: 1px 4px; border-radius: 4px; font-size: 85% }}
</style><body>{body}</body>"""


def test_a_reviewer_sees_the_summary_first(tmp_path: Path) -> None:
    """Render as GitHub would (GFM tables, details) in headless Chromium and look: the page is
    no wider than a comment column and the summary line is in the first screenful."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is missing: bash scripts/test installs it (apt-get install chromium)"
    old, new = upgrade(tmp_path)
    text = render(DriftReport("fn", NEW, OLD, "base 1a2b3c4", diff(old, new)))
    page = tmp_path / "report.html"
    probe = (
        "<script>document.title = [document.documentElement.scrollWidth,"
        " document.querySelector('strong').getBoundingClientRect().top].join(',')</script>"
    )
    page.write_text(PAGE.format(body=html(text) + probe), encoding="utf-8")
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--hide-scrollbars", "--window-size=820,900"]  # fmt: skip
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000  # a real picture, not a blank page
    dumped = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    title = dumped.split("<title>")[1].split("</title>")[0]
    width, summary_top = (float(v) for v in title.split(","))
    assert width <= 820, f"the report is {width}px wide: it does not fit a comment column"
    assert summary_top < 120, f"the summary line starts {summary_top}px down"


def test_diff_markdown_gives_no_verdict_it_did_not_make(tmp_path: Path) -> None:
    """`lambda-zip diff` rebuilds nothing: "new not verified, old not verified" misled."""
    from lambda_zip_action.proof.drift_report import from_diff

    old, new = upgrade(tmp_path)
    text = render(from_diff(diff(old, new), "fn"))
    assert "Rebuilt from scratch" not in text and "not verified" not in text
    assert "requests 2&#46;32&#46;3 → 2&#46;32&#46;4" in text  # dots escaped: no autolinks
    # The Action's report says it when verify was off.
    unverified = Package("b" * 64, None, 1200, 5600)
    action = render(DriftReport("fn", unverified, OLD, "main", diff(old, new)))
    assert "Rebuilt from scratch: new not verified, old reproducible." in action
