"""The fork pattern's comment, posted as the bot from what a fork's run uploaded.

`lambda-zip comment --report FILE` posted a fork's markdown, first verbatim, then through a
regex filter (images, link targets, HTML, mentions): a link whose text holds brackets
(`[the [real] report](//evil.example)`) passed it, and so did an image from a protocol-relative
address, and the text could claim "reproducible". The comment is now rendered here from the
report's data (proof.drift_data: manifests and hashes, every field checked) by the renderer
that escapes every name; markdown is refused. Rendered HTML comes from markdown-it-py standing
in for GitHub, as in tests/unit/test_markdown.py.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from lambda_zip_action import cli
from lambda_zip_action.github.comments import marker_for
from lambda_zip_action.proof.drift_data import NOTICE, render_document

import support
from fake_github import BOT_TOKEN, FakeGitHub, fake_github

REPO = "octo/app"
PR = 7
ATTACK_MARKDOWN = (
    "### Lambda package fn: unchanged\n\n**same bytes as main, reproducible**\n\n"
    "See [the [real] report](//evil.example/approve) and "
    "![pixel [1] x](//tracker.example/p.gif) cc @octo-org/admins\n"
)
HOSTILE = (
    "[the [real] report](//evil.example/approve).py",
    "![pixel [1] x](//tracker.example/p.gif)",
    "<img src=//tracker.example/2.gif>",
    "cc @octo-org/admins @alice #12",
    "https://evil.example/x www.evil.example",
    "</details></summary><details open>",
    "| a | b |\n|---|---|\n**reproducible**",
)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        server.add_repository(REPO, issues=(PR,))
        yield server


class _Html(HTMLParser):
    """Tags, and the text outside code (GitHub links mentions and references there only)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.prose = ""
        self.in_code = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        self.in_code += tag == "code"

    def handle_endtag(self, tag: str) -> None:
        self.in_code -= tag == "code"

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self.prose += data


def _rendered(markdown: str) -> _Html:
    md = MarkdownIt("gfm-like")
    assert md.linkify is not None
    md.linkify.set({"fuzzy_link": False})
    return _Html(md.render(markdown))


def _reaches_out(html: _Html) -> list[str]:
    found = [tag for tag in html.tags if tag in ("a", "img", "script", "iframe")]
    found += [a for a in html.attributes if a in ("href", "src", "open")]
    # An invisible word joiner after `@` breaks a mention, as markdown.escape_inline does it.
    found += re.findall(r"@[A-Za-z0-9]|#[0-9]|www\.|://", html.prose)
    return found


def _post(report: Path, fake: FakeGitHub) -> int:
    arguments = ["comment", "--report", str(report), "--pr", str(PR), "--repo", REPO,
                 "--name", "fn", "--api-url", fake.url]  # fmt: skip
    return cli.main(arguments, {"GITHUB_TOKEN": BOT_TOKEN})


def test_a_forks_markdown_reached_out_and_is_now_refused(
    tmp_path: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # What posting the fork's markdown put on the page (the regex filter let these through).
    assert {"a", "img"} <= set(_rendered(ATTACK_MARKDOWN).tags)
    report = tmp_path / "report.md"
    report.write_text(ATTACK_MARKDOWN)
    assert _post(report, fake) == 2
    assert fake.comments(REPO, PR) == []  # before: posted, link and image included
    printed = capsys.readouterr().out
    assert "not lambda-zip's drift data" in printed and "markdown report" in printed


@pytest.mark.parametrize("where", ["file names", "distributions", "package name and label"])
def test_hostile_names_in_a_forks_data_render_as_text(
    tmp_path: Path, fake: FakeGitHub, where: str
) -> None:
    old = {"app/handler.py": b"X = 1\n"}
    new = {"app/handler.py": b"X = 2\n"}
    name, label = "fn", "1a2b3c4d5e6f"
    distributions: tuple[tuple[str, str], ...] = ()
    if where == "file names":
        new |= {f"app/{hostile}": b"x" for hostile in HOSTILE}
    elif where == "distributions":
        distributions = tuple((hostile, hostile) for hostile in HOSTILE)
    else:
        name, label = "fn @alice <img src=//t.example/p.gif>", "[x [y] z](//evil.example)"
    report = support.drift_data(tmp_path / "report.json", name, new, old, label=label,
                                distributions=distributions)  # fmt: skip
    assert _post(report, fake) == 0
    [comment] = fake.comments(REPO, PR)
    assert comment.body.startswith(f"{marker_for('fn')}\n{NOTICE}\n\n### Lambda package ")
    html = _rendered(comment.body)
    assert _reaches_out(html) == []
    assert "reproducible" not in html.prose.replace("nothing was rebuilt or verified", "")
    if where == "file names":
        assert "[the [real] report]" in comment.body.replace("\\", "")  # shown, as text


@pytest.mark.parametrize(
    "change",
    [
        {"schema": "lambda-zip/drift-data/0"},
        {"reports": []},
        {"reports": [{"name": "fn", "new": {"schema": "x"}, "old": None}]},
        {"reports": [{"name": "", "new": {}, "old": None}]},
        {"reports": [{"name": "fn", "new": {}, "old": {"sha256": "zz" * 32}}]},
        {"reports": [{"name": "fn\n@alice", "new": {}, "old": None}]},
        {"reports": "fn"},
    ],
)
def test_data_that_is_not_what_the_action_writes_is_refused(
    tmp_path: Path, fake: FakeGitHub, change: dict[str, object]
) -> None:
    report = support.drift_data(tmp_path / "report.json", "fn", {"a.py": b"1"}, None)
    document = json.loads(report.read_text()) | change
    report.write_text(json.dumps(document))
    assert _post(report, fake) == 2
    assert fake.comments(REPO, PR) == []


def test_the_actions_data_renders_the_comparison_it_made(tmp_path: Path) -> None:
    """A real Action run writes the data beside the report; rendered from it, the comment
    says what the report says (changed, the file), without the verdict of the rebuild."""
    project = tmp_path / "workspace" / "fn"
    shutil.copytree(support.PROJECTS / "uvlock", project)
    deployed = tmp_path / "deployed.zip"
    env = support.tool_env(GITHUB_TOKEN=None)
    assert cli.main(["build", "--project", str(project), "--python-version", "3.12",
                     "--output", str(deployed)], env) == 0  # fmt: skip
    (project / "src" / "app" / "handler.py").write_text("def handler(e, c):\n    return 2\n")
    env.update(
        GITHUB_WORKSPACE=str(tmp_path / "workspace"), RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"), GITHUB_ACTIONS="true",
        INPUT_WORKING_DIRECTORY="fn", INPUT_PYTHON_VERSION="3.12", INPUT_VERIFY="true",
        INPUT_COMMENT="false", INPUT_COMPARE_TO=str(deployed),
    )  # fmt: skip
    assert cli.main(["action"], env) == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    data = Path(outputs["report-data"])
    assert data.name == "lambda.zip.report.json"
    report = Path(outputs["report"]).read_text()
    assert "reproducible" in report  # the Action's own report gives its verdict
    rendered = render_document(data)
    assert "### Lambda package fn: changed" in rendered and "`app/handler.py`" in rendered
    assert outputs["sha256"] in rendered and outputs["baseline-sha256"] in rendered
    assert "reproducible" not in rendered.replace("nothing was rebuilt or verified", "")
