"""Findings 4, 5 and 6: the fork flow's target, the token's handling, the comment's owner.

Everything runs `lambda-zip comment` (or the GitHub client) against the loopback fake of
tests/fake_github.py, which answers as GitHub does: 403 on /user for installation tokens,
GraphQL `viewer` for every token, 403 when editing someone else's comment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ruamel.yaml import YAML

from lambda_zip_action.github.comments import marker_for, upsert_sticky_comment
from lambda_zip_action.github.errors import ForbiddenError
from lambda_zip_action.github.rest import DEFAULT_BOT_LOGIN, GitHubClient

import support
from fake_github import APP_LOGIN, APP_TOKEN, BOT_LOGIN, BOT_TOKEN, fake_github

REPO = "octo/app"
FORK_SHA = "a" * 40
VICTIM_SHA = "b" * 40


def comment(
    fake_url: str, tmp_path: Path, *args: str, token: str = BOT_TOKEN, **env: str | None
) -> subprocess.CompletedProcess[str]:
    report = support.drift_data(tmp_path / "report.json", "fn", {"a.py": b"1"}, {"a.py": b"2"})
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "comment", "--report", str(report),
         "--repo", REPO, "--name", "fn", "--api-url", fake_url, *args],
        env=support.tool_env(**{"GITHUB_TOKEN": token, "GITHUB_ACTIONS": None, **env}),
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


# --- finding 4: the fork flow's pull request comes from GitHub, not from the artifact ----------


def test_the_artifact_number_aimed_the_comment_anywhere_the_head_sha_does_not(
    tmp_path: Path,
) -> None:
    with fake_github() as fake:
        fake.add_pull(REPO, 5, head_sha=FORK_SHA, head_repo="mallory/app")
        fake.add_pull(REPO, 9, head_sha=VICTIM_SHA, head_repo="alice/app")
        # The attack: the fork's artifact says "9"; trusting it posts on the victim's PR.
        old_way = comment(fake.url, tmp_path, "--pr", "9")
        assert old_way.returncode == 0, old_way.stderr
        assert len(fake.comments(REPO, 9)) == 1
        # GitHub's record of the run (workflow_run.head_sha, .head_repository) finds PR 5.
        new_way = comment(fake.url, tmp_path, "--head-sha", FORK_SHA, "--head-repo", "mallory/app")
        assert new_way.returncode == 0, new_way.stdout + new_way.stderr
        assert len(fake.comments(REPO, 5)) == 1
        assert len(fake.comments(REPO, 9)) == 1  # untouched
        # The fork cannot borrow the victim's head commit: the repository must match too.
        borrowed = comment(
            fake.url, tmp_path, "--head-sha", VICTIM_SHA, "--head-repo", "mallory/app"
        )
        assert borrowed.returncode == 2
        assert "no open pull request" in borrowed.stdout + borrowed.stderr
        assert "Traceback" not in borrowed.stdout + borrowed.stderr
        assert len(fake.comments(REPO, 9)) == 1


def test_fork_workflows_never_read_the_number_from_the_artifact() -> None:
    yaml = YAML(typ="safe")
    comment_flow = yaml.load((support.EXAMPLES / "workflows" / "fork-comment.yml").read_text())
    report_flow = (support.EXAMPLES / "workflows" / "fork-report.yml").read_text()
    assert "pr-number" not in report_flow
    [step] = [s for s in comment_flow["jobs"]["comment"]["steps"] if "run" in s]
    assert "pr-number" not in step["run"] and "--pr " not in step["run"]
    assert step["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert step["env"]["HEAD_REPOSITORY"] == (
        "${{ github.event.workflow_run.head_repository.full_name }}"
    )
    group = comment_flow["concurrency"]["group"]
    # Keyed first on what GitHub assigns: one fork's run cannot cancel another fork's.
    assert group.startswith("drift-comment-${{ github.event.workflow_run.head_repository.id }}")


# --- finding 5: tokens are validated, never printed, masked only under Actions ----------------


def test_a_token_with_a_newline_used_to_print_itself() -> None:
    # What the client did before it validated: requests refuses the header and shows it.
    with pytest.raises(ValueError) as caught:
        requests.Request(
            "GET", "http://127.0.0.1:9/", headers={"Authorization": f"Bearer {BOT_TOKEN}\n"}
        ).prepare()
    assert BOT_TOKEN in str(caught.value)


def test_a_token_ending_in_a_newline_is_stripped_and_never_shown(tmp_path: Path) -> None:
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        completed = comment(fake.url, tmp_path, "--pr", "7", token=BOT_TOKEN + "\n")
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, output
        assert len(fake.comments(REPO, 7)) == 1
        assert BOT_TOKEN not in output and "Traceback" not in output
        assert "::add-mask::" not in output  # not under Actions


def test_a_non_latin1_token_is_a_clear_error_without_the_token(tmp_path: Path) -> None:
    token = "ghp_тайный_токен_1234567890"
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        completed = comment(fake.url, tmp_path, "--pr", "7", token=token)
        output = completed.stdout + completed.stderr
        assert completed.returncode == 2, output
        assert "Traceback" not in output and "UnicodeEncodeError" not in output
        assert token not in output and "тайный" not in output
        assert "GITHUB_TOKEN contains" in output
        assert fake.calls() == []


def test_the_action_input_token_is_validated_without_echo(tmp_path: Path) -> None:
    from lambda_zip_action.errors import ConfigError
    from lambda_zip_action.github.inputs import read_inputs

    with pytest.raises(ConfigError) as caught:
        read_inputs({"INPUT_GITHUB_TOKEN": "ghp_abc\u00e9def"})
    assert "github-token" in caught.value.message and "abc" not in caught.value.message
    assert read_inputs({"INPUT_GITHUB_TOKEN": f" {BOT_TOKEN}\n"}).token == BOT_TOKEN


def test_add_mask_only_under_actions(tmp_path: Path) -> None:
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        outside = comment(fake.url, tmp_path, "--pr", "7")
        assert "::add-mask::" not in outside.stdout + outside.stderr
        under = comment(fake.url, tmp_path, "--pr", "7", GITHUB_ACTIONS="true")
        assert under.stdout.count("::add-mask::") == 1


# --- finding 6: the comment's owner with a GitHub App token ------------------------------------


def test_an_app_token_used_to_take_github_actions_comment(tmp_path: Path) -> None:
    marker = marker_for("fn")
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        fake.seed(REPO, 7, BOT_LOGIN, f"{marker}\nthe Actions workflow's report")
        # The old assumption: an installation token writes as github-actions[bot]. With an
        # App's token that makes the client edit github-actions[bot]'s comment (GitHub refuses).
        with (
            GitHubClient(fake.url, APP_TOKEN, author_login=DEFAULT_BOT_LOGIN) as client,
            pytest.raises(ForbiddenError),
        ):
            upsert_sticky_comment(client, REPO, 7, marker, "the app's report")


def test_an_app_token_finds_its_own_login_and_comment(tmp_path: Path) -> None:
    marker = marker_for("fn")
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        theirs = fake.seed(REPO, 7, BOT_LOGIN, f"{marker}\nthe Actions workflow's report")
        ours = fake.seed(REPO, 7, APP_LOGIN, f"{marker}\nthe app's old report")
        completed = comment(fake.url, tmp_path, "--pr", "7", token=APP_TOKEN)
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, output
        assert f"updated comment {ours.id}" in completed.stdout
        bodies = {c.id: c.body for c in fake.comments(REPO, 7)}
        assert bodies[theirs.id].endswith("the Actions workflow's report")
        assert "Lambda package fn" in bodies[ours.id]
        assert "warning" not in output.lower() and "read-only" not in output


def test_the_actions_token_prints_no_warning(tmp_path: Path) -> None:
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        for _ in range(2):
            completed = comment(fake.url, tmp_path, "--pr", "7")
            output = completed.stdout + completed.stderr
            assert completed.returncode == 0, output
            assert "warning" not in output.lower() and "read-only" not in output
        assert [c.login for c in fake.comments(REPO, 7)] == [BOT_LOGIN]


def test_a_given_author_is_used_as_is(tmp_path: Path) -> None:
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        completed = comment(fake.url, tmp_path, "--pr", "7", "--author", APP_LOGIN, token=APP_TOKEN)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert not [r for r in fake.calls() if r.path in ("/user", "/graphql")]


def test_a_wrong_author_is_noticed_after_the_first_comment(tmp_path: Path) -> None:
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(7,))
        completed = comment(fake.url, tmp_path, "--pr", "7", "--author", "someone[bot]",
                            token=APP_TOKEN)  # fmt: skip
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert f"writes comments as {APP_LOGIN}" in completed.stdout
