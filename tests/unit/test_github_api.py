from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from lambda_zip_action import __version__
from lambda_zip_action.errors import ConfigError, LambdaZipError
from lambda_zip_action.github.comments import (
    MAX_COMMENT_CHARS,
    marker_for,
    trim_body,
    upsert_sticky_comment,
)
from lambda_zip_action.github.errors import (
    AuthError,
    GitHubError,
    NotFoundError,
    RateLimitError,
    ReadOnlyTokenError,
    UnavailableError,
    ValidationError,
    error_for,
)
from lambda_zip_action.github.rest import GitHubClient

from fake_github import (
    BOT_LOGIN,
    BOT_TOKEN,
    MALLORY_TOKEN,
    PAT_TOKEN,
    READ_ONLY_TOKEN,
    FakeGitHub,
    RecordedRequest,
    fake_github,
)

REPO = "octo/app"
PR = 7
MARKER = marker_for("prod")
ALL_TOKENS = (BOT_TOKEN, READ_ONLY_TOKEN, PAT_TOKEN, MALLORY_TOKEN)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github() as fake:
        fake.add_repository(REPO, issues=(PR,))
        yield fake


def client_for(fake: FakeGitHub, token: str = BOT_TOKEN, **kwargs: object) -> GitHubClient:
    kwargs.setdefault("sleep", Sleeps())
    return GitHubClient(fake.url, token, **kwargs)  # type: ignore[arg-type]


def posts(fake: FakeGitHub) -> list[RecordedRequest]:
    """POSTs that write (the GraphQL viewer query is a read)."""
    return [r for r in fake.calls("POST") if r.path != "/graphql"]


def page_numbers(fake: FakeGitHub) -> list[tuple[str, str]]:
    return [
        (r.query.get("per_page", ["?"])[0], r.query.get("page", ["1"])[0])
        for r in fake.calls("GET")
        if r.path.endswith("/comments")
    ]


# Creating, finding and updating


def test_creates_the_comment_when_absent_with_github_headers(github: FakeGitHub) -> None:
    result = upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "hello")

    assert result.action == "created"
    assert result.author_login == BOT_LOGIN
    [comment] = github.comments(REPO, PR)
    assert comment.id == result.comment_id
    assert comment.body == f"{MARKER}\nhello"
    assert result.html_url.endswith(f"#issuecomment-{comment.id}")
    assert [(r.method, r.path) for r in github.requests] == [
        ("GET", "/user"),
        ("POST", "/graphql"),  # an installation token: /user refused, GraphQL viewer answers
        ("GET", f"/repos/{REPO}/issues/{PR}/comments"),
        ("POST", f"/repos/{REPO}/issues/{PR}/comments"),
    ]
    headers = github.requests[-1].headers
    assert headers["User-Agent"] == f"lambda-zip-action/{__version__}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"


def test_a_personal_token_writes_as_its_user(github: FakeGitHub) -> None:
    client = client_for(github, PAT_TOKEN)
    assert client.viewer_login() == "alice"
    assert upsert_sticky_comment(client, REPO, PR, MARKER, "x").author_login == "alice"


def test_an_explicit_author_login_skips_get_user(github: FakeGitHub) -> None:
    client = client_for(github, author_login=BOT_LOGIN)
    upsert_sticky_comment(client, REPO, PR, MARKER, "x")
    assert all(r.path != "/user" for r in github.requests)


def seed_three_pages(fake: FakeGitHub) -> tuple[list[int], int]:
    """250 comments: the bot's own marked one on page 3, mallory's look-alikes around it."""
    mallory: list[int] = []
    bot = 0
    for index in range(250):
        if index in (10, 240):  # older and newer than the bot's
            mallory.append(fake.seed(REPO, PR, "mallory", f"{MARKER}\nfake report").id)
        elif index == 230:
            bot = fake.seed(REPO, PR, BOT_LOGIN, f"{MARKER}\nold report").id
        else:
            fake.seed(REPO, PR, f"user{index % 7}", f"comment {index}")
    return mallory, bot


def test_updates_in_place_on_page_three_listing_every_page(github: FakeGitHub) -> None:
    mallory, bot = seed_three_pages(github)

    result = upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "new report")

    assert (result.action, result.comment_id) == ("updated", bot)
    assert page_numbers(github) == [("100", "1"), ("100", "2"), ("100", "3")]
    # GitHub's next links use /repositories/{id}/...: the client followed them verbatim.
    assert github.calls("GET")[-1].path.startswith("/repositories/")
    comments = {c.id: c for c in github.comments(REPO, PR)}
    assert len(comments) == 250
    assert comments[bot].body == f"{MARKER}\nnew report"
    assert all(comments[id_].body == f"{MARKER}\nfake report" for id_ in mallory)
    assert [r.path for r in github.calls("PATCH")] == [f"/repos/{REPO}/issues/comments/{bot}"]
    assert posts(github) == []


def test_never_touches_someone_elses_comment_with_the_marker(github: FakeGitHub) -> None:
    mallory = github.seed(REPO, PR, "mallory", f"{MARKER}\nfake report").id

    result = upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "real report")

    assert result.action == "created"
    assert result.comment_id != mallory
    assert github.comments(REPO, PR)[0].body == f"{MARKER}\nfake report"


def test_mallory_cannot_edit_the_bots_comment_in_the_fake(github: FakeGitHub) -> None:
    bot = github.seed(REPO, PR, BOT_LOGIN, f"{MARKER}\nreport").id
    response = requests.patch(
        f"{github.url}/repos/{REPO}/issues/comments/{bot}",
        json={"body": "defaced"},
        headers={"Authorization": f"Bearer {MALLORY_TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 403


def test_the_newest_of_several_own_marked_comments_is_updated(github: FakeGitHub) -> None:
    older = github.seed(REPO, PR, BOT_LOGIN, f"{MARKER}\nfirst").id
    newer = github.seed(REPO, PR, BOT_LOGIN, f"{MARKER}\nsecond").id

    result = upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "third")

    assert (result.comment_id, result.duplicate_ids) == (newer, (older,))
    assert [c.body.split("\n")[1] for c in github.comments(REPO, PR)] == ["first", "third"]


def test_a_marker_quoted_further_down_does_not_count(github: FakeGitHub) -> None:
    github.seed(REPO, PR, BOT_LOGIN, f"about the report:\n{MARKER}")
    assert upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "x").action == "created"


def test_an_identical_body_is_not_written_again(github: FakeGitHub) -> None:
    github.seed(REPO, PR, BOT_LOGIN, f"{MARKER}\nsame")
    result = upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "same")
    assert result.action == "unchanged"
    assert github.calls("PATCH") == posts(github) == []


@pytest.mark.parametrize("prefix", ["/api/v3", "/api/v3/"])
def test_github_enterprise_api_root_keeps_its_path(prefix: str) -> None:
    with fake_github(prefix="/api/v3") as fake:
        fake.add_repository(REPO, issues=(PR,))
        url = fake.url.removesuffix("/api/v3") + prefix
        result = upsert_sticky_comment(GitHubClient(url, BOT_TOKEN), REPO, PR, MARKER, "x")
        assert result.action == "created"
        assert all(r.path.startswith("/") for r in fake.requests)


def test_a_next_link_to_another_host_is_not_followed(github: FakeGitHub) -> None:
    for index in range(101):
        github.seed(REPO, PR, "user", f"comment {index}")
    github.link_base = "http://evil.example"
    with pytest.raises(GitHubError, match=r"evil\.example.*refusing to send the token"):
        upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "x")


# Markers and trimming


def test_marker_for_cannot_close_the_html_comment() -> None:
    marker = marker_for("x --> <img src=x onerror=alert(1)> <!--")
    assert marker.startswith("<!-- lambda-zip-action:")
    assert marker.endswith(" -->")
    assert marker.count("-->") == 1
    assert "<" not in marker[4:] and ">" not in marker[:-3]
    assert marker_for("") == marker_for("---") == "<!-- lambda-zip-action:default -->"
    assert marker_for("api/prod") == "<!-- lambda-zip-action:api-prod -->"


def test_trim_body_leaves_short_bodies_alone() -> None:
    assert trim_body("short", limit=100) == "short"


def test_trim_body_cuts_at_a_line_keeps_the_marker_and_closes_details() -> None:
    body = MARKER + "\n" + "<details><summary>files</summary>\n\n" + "line\n" * 500 + "</details>\n"
    trimmed = trim_body(body, limit=1000)

    assert len(trimmed) <= 1000
    assert trimmed.startswith(MARKER + "\n")
    assert trimmed.count("<details>") == trimmed.count("</details>") == 1
    kept, note = trimmed.split("</details>\n")
    assert kept.endswith("line\n")
    omitted = len(body) - len(kept)
    assert note == (
        f"\n… report trimmed: {omitted} characters omitted; "
        "the full report is in the job summary / artifact\n"
    )


def test_trim_body_closes_an_open_code_fence() -> None:
    body = "top\n```text\n" + "x\n" * 1000 + "```\n"
    trimmed = trim_body(body, limit=300)
    assert len(trimmed) <= 300
    code, _, note = trimmed.partition("```\n\n…")
    assert code.startswith("top\n```text\n") and note


def test_trim_body_cuts_a_single_overlong_line() -> None:
    trimmed = trim_body("y" * 5000, limit=500)
    assert len(trimmed) <= 500
    assert trimmed.startswith("yyy")
    assert "report trimmed" in trimmed


def test_an_overlong_body_is_trimmed_which_the_fake_would_otherwise_refuse(
    github: FakeGitHub,
) -> None:
    body = "| file | size |\n|---|---|\n" + "| handler.py | 1 |\n" * 5000
    assert len(body) > MAX_COMMENT_CHARS

    refused = requests.post(
        f"{github.url}/repos/{REPO}/issues/{PR}/comments",
        json={"body": f"{MARKER}\n{body}"},
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
        timeout=5,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == (
        "body is too long (maximum is 65536 characters)"
    )

    result = upsert_sticky_comment(client_for(github), REPO, PR, MARKER, body)

    [stored] = github.comments(REPO, PR)
    assert len(stored.body) <= MAX_COMMENT_CHARS
    assert stored.body.startswith(MARKER + "\n")
    assert "report trimmed" in stored.body
    assert result.omitted_chars > 0


# Failures


def test_a_read_only_token_raises_read_only_token_error(github: FakeGitHub) -> None:
    with pytest.raises(ReadOnlyTokenError) as caught:
        upsert_sticky_comment(client_for(github, READ_ONLY_TOKEN), REPO, PR, MARKER, "x")
    error = caught.value
    assert isinstance(error, LambdaZipError)
    assert (error.method, error.path, error.status) == (
        "POST",
        f"/repos/{REPO}/issues/{PR}/comments",
        403,
    )
    assert error.github_message == "Resource not accessible by integration"
    assert "workflow_run" in str(error)


def test_an_unknown_token_raises_auth_error_with_githubs_message(github: FakeGitHub) -> None:
    with pytest.raises(AuthError, match='401 "Bad credentials"'):
        upsert_sticky_comment(client_for(github, "ghp_unknown"), REPO, PR, MARKER, "x")


@pytest.mark.parametrize(("repo", "number"), [("octo/missing", PR), (REPO, 999)])
def test_an_unknown_repository_or_issue_raises_not_found(
    github: FakeGitHub, repo: str, number: int
) -> None:
    with pytest.raises(NotFoundError, match="404") as caught:
        upsert_sticky_comment(client_for(github), repo, number, MARKER, "x")
    assert caught.value.path == f"/repos/{repo}/issues/{number}/comments"


def test_a_refused_body_raises_validation_error_with_githubs_reason(github: FakeGitHub) -> None:
    github.max_body_chars = 10
    with pytest.raises(ValidationError, match=r"body is too long \(maximum is 10 characters\)"):
        upsert_sticky_comment(client_for(github), REPO, PR, MARKER, "a longer body")


@pytest.mark.parametrize(("repo", "number"), [("octo", 1), ("a/b/c", 1), ("../x", 1), (REPO, 0)])
def test_bad_targets_are_configuration_errors(repo: str, number: int) -> None:
    client = GitHubClient("https://api.github.com", "t", author_login="x")
    with pytest.raises(ConfigError):
        upsert_sticky_comment(client, repo, number, MARKER, "x")


# Retries


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_is_waited_out_as_retry_after_says(
    github: FakeGitHub, status: int
) -> None:
    github.secondary_limit_writes = 1
    github.secondary_limit_status = status
    sleeps = Sleeps()

    result = upsert_sticky_comment(client_for(github, sleep=sleeps), REPO, PR, MARKER, "x")

    assert result.action == "created"
    assert sleeps == [1.0]
    assert len(posts(github)) == 2
    assert len(github.comments(REPO, PR)) == 1


def test_a_secondary_limit_without_retry_after_waits_a_minute(github: FakeGitHub) -> None:
    github.secondary_limit_writes = 1
    github.retry_after = None
    sleeps = Sleeps()
    upsert_sticky_comment(
        client_for(github, sleep=sleeps, max_wait_seconds=60), REPO, PR, MARKER, "x"
    )
    assert sleeps == [60.0]


def test_a_persistent_rate_limit_gives_up_after_the_retry_bound(github: FakeGitHub) -> None:
    github.secondary_limit_writes = 100
    sleeps = Sleeps()
    with pytest.raises(RateLimitError, match="secondary rate limit") as caught:
        upsert_sticky_comment(
            client_for(github, sleep=sleeps, max_retries=3), REPO, PR, MARKER, "x"
        )
    assert sleeps == [1.0, 1.0, 1.0]
    assert len(posts(github)) == 4
    assert "Re-run the job later" in str(caught.value)


def test_a_wait_beyond_the_budget_is_not_slept(github: FakeGitHub) -> None:
    github.secondary_limit_writes = 1
    github.retry_after = "120"
    sleeps = Sleeps()
    with pytest.raises(RateLimitError, match="wait 120 s"):
        upsert_sticky_comment(
            client_for(github, sleep=sleeps, max_wait_seconds=60), REPO, PR, MARKER, "x"
        )
    assert sleeps == []


def test_a_primary_rate_limit_waits_until_the_reset(github: FakeGitHub) -> None:
    github.primary_limit_requests = 1
    github.primary_reset_at = 1_700_000_005
    sleeps = Sleeps()
    client = client_for(github, sleep=sleeps, clock=lambda: 1_700_000_000.0)
    assert client.viewer_login() == BOT_LOGIN
    assert sleeps == [5.0]


def test_server_errors_are_retried_with_exponential_backoff(github: FakeGitHub) -> None:
    github.server_errors = 3
    sleeps = Sleeps()
    result = upsert_sticky_comment(
        client_for(github, sleep=sleeps, author_login=BOT_LOGIN), REPO, PR, MARKER, "x"
    )
    assert result.action == "created"
    assert sleeps == [1.0, 2.0, 4.0]


def test_persistent_server_errors_give_up_with_unavailable_error(github: FakeGitHub) -> None:
    github.server_errors = 100
    sleeps = Sleeps()
    with pytest.raises(UnavailableError, match="502") as caught:
        upsert_sticky_comment(
            client_for(github, sleep=sleeps, max_retries=2), REPO, PR, MARKER, "x"
        )
    assert sleeps == [1.0, 2.0]
    assert caught.value.status == 502


def test_a_post_answered_with_5xx_lists_again_before_posting_again(github: FakeGitHub) -> None:
    github.server_errors = 1
    github.server_error_methods = frozenset({"POST"})
    sleeps = Sleeps()
    result = upsert_sticky_comment(
        client_for(github, sleep=sleeps, author_login=BOT_LOGIN), REPO, PR, MARKER, "x"
    )
    assert result.action == "created"
    assert [r.method for r in github.requests] == ["GET", "POST", "GET", "POST"]
    assert sleeps == [1.0]
    assert len(github.comments(REPO, PR)) == 1


def test_a_slow_answer_is_retried_after_the_read_timeout(github: FakeGitHub) -> None:
    github.slow_requests = 1
    github.slow_seconds = 1.0
    sleeps = Sleeps()
    client = client_for(github, sleep=sleeps, timeout=(2.0, 0.2))
    assert client.viewer_login() == BOT_LOGIN
    assert sleeps == [1.0]


def test_a_timed_out_post_that_landed_is_not_duplicated(github: FakeGitHub) -> None:
    github.slow_requests = 1  # the POST is applied, then answered after the client gave up
    github.slow_methods = frozenset({"POST"})
    github.slow_seconds = 1.0
    sleeps = Sleeps()
    client = client_for(github, sleep=sleeps, author_login=BOT_LOGIN, timeout=(2.0, 0.2))

    result = upsert_sticky_comment(client, REPO, PR, MARKER, "report")

    [comment] = github.comments(REPO, PR)
    assert (result.action, result.comment_id) == ("unchanged", comment.id)
    assert [r.method for r in github.requests] == ["GET", "POST", "GET"]
    assert sleeps == [1.0]


def test_persistent_time_outs_give_up_with_unavailable_error(github: FakeGitHub) -> None:
    github.slow_requests = 100
    github.slow_seconds = 0.5
    sleeps = Sleeps()
    with pytest.raises(UnavailableError, match=r"did not answer GET /user \(ReadTimeout\)"):
        client_for(github, sleep=sleeps, max_retries=2, timeout=(2.0, 0.1)).viewer_login()
    assert sleeps == [1.0, 2.0]


# The token never shows


def test_the_token_appears_in_no_message_repr_result_or_log(
    github: FakeGitHub, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def scenario(token: str, **knobs: object) -> None:
        github.secondary_limit_writes = github.server_errors = github.slow_requests = 0
        github.max_body_chars = MAX_COMMENT_CHARS
        for name, value in knobs.items():
            setattr(github, name, value)
        client = client_for(github, token, max_retries=1, timeout=(2.0, 0.1))
        seen.extend([repr(client), str(client), repr(vars(client))])
        try:
            result = upsert_sticky_comment(client, REPO, PR, MARKER, f"body {token[:9]}")
            seen.append(repr(result))
        except GitHubError as error:
            seen.extend([str(error), repr(error), repr(error.args), repr(vars(error))])

    scenario(BOT_TOKEN)
    scenario(PAT_TOKEN)
    scenario(READ_ONLY_TOKEN)
    scenario("ghp_WRONGtokenWRONGtokenWRONGtoken123")
    scenario(BOT_TOKEN, secondary_limit_writes=5)
    scenario(BOT_TOKEN, server_errors=5)
    scenario(BOT_TOKEN, slow_requests=5, slow_seconds=0.3)
    scenario(BOT_TOKEN, max_body_chars=5)
    captured = capsys.readouterr()
    haystack = "\n".join([*seen, caplog.text, captured.out, captured.err])
    assert "Resource not accessible" in haystack and "Bad credentials" in haystack
    for token in (*ALL_TOKENS, "ghp_WRONGtokenWRONGtokenWRONGtoken123"):
        assert token not in haystack
    assert all("authorization" not in {k.lower() for k in r.headers} for r in github.requests)


def test_a_token_echoed_by_github_is_redacted(github: FakeGitHub) -> None:
    client = client_for(github)
    response = requests.Response()
    response.status_code = 403
    response._content = f'{{"message": "token {BOT_TOKEN} is bad"}}'.encode()
    error = error_for("GET", "/user", response, client._redact)
    assert BOT_TOKEN not in str(error)
    assert "<redacted>" in str(error)
