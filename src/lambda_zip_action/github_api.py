"""A small GitHub REST client for one job: keeping a sticky pull-request comment up to date.

The caller passes everything in (API URL, token, repository, author login); nothing here reads
the environment. The token only ever travels in the `Authorization` header: it is kept in a
wrapper whose repr is masked, and redacted from every message this module builds.

Retries follow GitHub's guidance for rate limits: honour `retry-after`, else wait until
`x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else wait a minute for a secondary limit;
server errors, time-outs and dropped connections back off exponentially. Every public operation
has one budget of retries and of total waiting; when a wait would exceed it, the client gives up
at once instead of sleeping in vain.

A write whose outcome is unknown (a POST that timed out or got a 5xx) is not blindly re-sent:
`upsert_sticky_comment` lists the comments again, so a comment that was in fact created is
updated rather than duplicated.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from lambda_zip_action import __version__
from lambda_zip_action.errors import ConfigError, LambdaZipError

__all__ = [
    "DEFAULT_BOT_LOGIN",
    "MAX_COMMENT_CHARS",
    "AuthError",
    "CommentResult",
    "ForbiddenError",
    "GitHubClient",
    "GitHubError",
    "IssueComment",
    "NotFoundError",
    "RateLimitError",
    "ReadOnlyTokenError",
    "UnavailableError",
    "ValidationError",
    "marker_for",
    "trim_body",
    "validate_token",
]

logger = logging.getLogger(__name__)

DEFAULT_BOT_LOGIN = "github-actions[bot]"
MAX_COMMENT_CHARS = 65536
API_VERSION = "2022-11-28"
MARKER_PREFIX = "lambda-zip-action:"

_READ_ONLY_MESSAGE = "resource not accessible by integration"
_SECONDARY_LIMIT_DEFAULT_WAIT = 60.0
_MAX_PAGES = 1000
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_DETAILS_OPEN = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


_UNEXPECTED = "unexpected. Check the token's permissions and the API URL."
_READ_ONLY_ADVICE = (
    "the token is read-only, as it is for pull requests from forks. The report is still in the "
    "job summary; to comment, grant `permissions: pull-requests: write`, or post the uploaded "
    "report from a `workflow_run` job."
)


class GitHubError(LambdaZipError):
    """A GitHub API request failed. Carries the method, path, status and GitHub's message."""

    kind = "github"

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        github_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.github_message = github_message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class AuthError(GitHubError):
    """401: the token is missing, malformed, expired or revoked."""


class ForbiddenError(GitHubError):
    """403 that is not a rate limit: the token lacks a permission."""


class ReadOnlyTokenError(ForbiddenError):
    """403 "Resource not accessible by integration": a read-only token, as for forked PRs."""


class NotFoundError(GitHubError):
    """404: no such repository, issue or comment, or the token cannot see it."""


class ValidationError(GitHubError):
    """422: GitHub refused the content, e.g. a body over 65,536 characters."""


class RateLimitError(GitHubError):
    """Still rate-limited when the retry budget ran out."""


class UnavailableError(GitHubError):
    """5xx answers, time-outs or dropped connections outlasted the retry budget."""


_BY_STATUS: dict[int, tuple[type[GitHubError], str]] = {
    401: (
        AuthError,
        "the token was refused; it is missing, expired or revoked. Pass a valid token (in a "
        "workflow, `github.token`).",
    ),
    403: (ForbiddenError, "the token lacks a permission; grant it `pull-requests: write`."),
    404: (
        NotFoundError,
        "the repository or pull request does not exist, or the token cannot see it. Check the "
        "repository name, the pull-request number and the API URL.",
    ),
    422: (
        ValidationError,
        "GitHub refused the content; shorten the comment, or report a bug if it is within "
        "65,536 characters.",
    ),
}


@dataclass(frozen=True)
class IssueComment:
    """One issue or pull-request comment as listed by GitHub."""

    id: int
    user_login: str
    body: str
    html_url: str


@dataclass(frozen=True)
class CommentResult:
    """What `upsert_sticky_comment` did.

    `action` is "created", "updated", or "unchanged" when the newest marked comment already had
    exactly this body (no write is made, sparing a notification and a secondary-limit point).
    `omitted_chars` counts what `trim_body` cut; `duplicate_ids` lists older own comments with
    the same marker, which are left alone.
    """

    action: Literal["created", "updated", "unchanged"]
    comment_id: int
    html_url: str
    author_login: str
    omitted_chars: int = 0
    duplicate_ids: tuple[int, ...] = ()


class _Secret:
    """Holds the token; its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


class _Budget:
    """Retries and seconds of waiting left for one public operation."""

    def __init__(self, retries: int, seconds: float) -> None:
        self.retries = retries
        self.seconds = seconds

    def allows(self, wait: float) -> bool:
        return self.retries > 0 and wait <= self.seconds

    def spend(self, wait: float) -> None:
        self.retries -= 1
        self.seconds -= wait


class _AmbiguousWriteError(Exception):
    """A non-idempotent request may or may not have been applied."""

    def __init__(self, cause: GitHubError) -> None:
        super().__init__(cause.message)
        self.cause = cause


def validate_token(token: str, where: str = "The GitHub token") -> str:
    """`token` without surrounding whitespace; printable ASCII or a ConfigError.

    A token goes into an HTTP header, which takes neither line breaks nor non-latin-1
    characters; requests would raise with the header, token included, in its message. The
    error here never shows the token, only what is wrong with it.
    """
    cleaned = token.strip()
    bad = [index for index, char in enumerate(cleaned) if not "!" <= char <= "~"]
    if bad:
        raise ConfigError(
            f"{where} contains {len(bad)} character(s) that cannot be in a token (spaces, "
            f"control or non-ASCII characters; the first at position {bad[0] + 1} of "
            f"{len(cleaned)}). Copy the token again without them; it is not shown here."
        )
    return cleaned


def marker_for(name: str) -> str:
    """The hidden HTML comment that identifies the sticky comment called `name`.

    `name` is reduced to letters, digits, `.`, `_` and single `-` (at most 100 characters) so it
    can neither close the comment (`-->`) nor differ only by invisible characters.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-.")[:100].strip("-.")
    return f"<!-- {MARKER_PREFIX}{cleaned or 'default'} -->"


def trim_body(
    body: str,
    limit: int = MAX_COMMENT_CHARS,
    *,
    where: str = "the job summary / artifact",
) -> str:
    """`body` cut to at most `limit` characters, at a line boundary, with a note saying so.

    The start is kept, so a marker on the first line survives. Open `<details>` elements and an
    open code fence are closed so that the note and the rest of the page render normally. A first
    line longer than the limit is cut inside the line. Like GitHub, this counts characters (code
    points). A `limit` too small for the note gets a plain cut.
    """
    return _trim(body, limit, where)[0]


def _trim(body: str, limit: int, where: str) -> tuple[str, int]:
    """The trimmed body and how many characters of `body` it left out."""
    if len(body) <= limit:
        return body, 0
    room = limit - len(_trim_note(len(body), where))
    kept: list[str] = []
    size = 0
    fence: str | None = None
    depth = 0
    for line in body.splitlines(keepends=True):
        next_fence, next_depth = _scan_line(line, fence, depth)
        if size + len(line) + len(_closing(next_fence, next_depth)) > room:
            break
        kept.append(line)
        size += len(line)
        fence, depth = next_fence, next_depth
    if kept:
        prefix = "".join(kept)
    else:
        # The first line alone is too long: cut inside it, leaving room to close what it opened.
        prefix = body[: max(room - 1, 0)]
        fence, depth = _scan_line(prefix, None, 0)
        prefix = prefix[: max(len(prefix) - len(_closing(fence, depth)), 0)]
        fence, depth = _scan_line(prefix, None, 0)
    text = prefix if prefix.endswith("\n") else prefix + "\n"
    omitted = len(body) - len(prefix)
    result = text + _closing(fence, depth) + _trim_note(omitted, where)
    if len(result) > limit:
        return body[:limit], len(body) - limit
    return result, omitted


def _trim_note(omitted: int, where: str) -> str:
    return f"\n… report trimmed: {omitted} characters omitted; the full report is in {where}\n"


def _scan_line(line: str, fence: str | None, depth: int) -> tuple[str | None, int]:
    """The open code fence and `<details>` depth after `line`."""
    stripped = line.rstrip("\r\n")
    match = _FENCE.match(stripped)
    if fence is not None:
        if match is not None:
            marks = match.group(1)
            closes = marks[0] == fence[0] and len(marks) >= len(fence)
            if closes and not stripped[match.end() :].strip():
                return None, depth
        return fence, depth
    if match is not None:
        return match.group(1), depth
    depth += len(_DETAILS_OPEN.findall(line)) - len(_DETAILS_CLOSE.findall(line))
    return None, max(depth, 0)


def _closing(fence: str | None, depth: int) -> str:
    return (f"{fence}\n" if fence is not None else "") + "</details>\n" * depth


class GitHubClient:
    """GitHub REST calls with retries, typed errors and a token that is never shown.

    `api_url` is the REST root, e.g. `https://api.github.com` or `https://ghe.example/api/v3`.
    `author_login` names the account the token writes as. When it is None, `GET /user` tells
    for a personal token; an installation token (the Actions `GITHUB_TOKEN` or a GitHub App's)
    is refused there with "Resource not accessible by integration", and GraphQL's `viewer`
    gives its bot login (`github-actions[bot]`, `<app-slug>[bot]`). Only when that fails too is
    the author taken to be `github-actions[bot]`; pass `author_login` to be sure.
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        session: requests.Session | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_retries: int = 4,
        max_wait_seconds: float = 60.0,
        timeout: tuple[float, float] = (10.0, 30.0),
        author_login: str | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"The GitHub API URL {api_url!r} is not an http(s) URL. Pass the REST root, "
                "e.g. https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server."
            )
        if not token:
            raise AuthError(
                "No GitHub token was given. Pass one (in a workflow, `github.token`) to post "
                "the pull-request comment."
            )
        self.api_url = api_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc.lower())
        self._token = _Secret(validate_token(token))
        self._session = session if session is not None else requests.Session()
        self._owns_session = session is None
        self._sleep = sleep
        self._clock = clock
        self.max_retries = max_retries
        self.max_wait_seconds = max_wait_seconds
        self.timeout = timeout
        self._author_login = author_login

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r}, token=<redacted>)"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def viewer_login(self) -> str:
        """The login the token writes comments as (see the class docstring)."""
        if self._author_login is None:
            try:
                user = self._request("GET", "/user", budget=self._new_budget()).json()
                self._author_login = str(user["login"])
            except ReadOnlyTokenError:
                # An installation token (the Actions GITHUB_TOKEN, a GitHub App's) may not read
                # /user; GraphQL's `viewer` answers for it with the bot's login.
                self._author_login = self._graphql_viewer()
        return self._author_login

    def _graphql_url(self) -> str:
        # api.github.com/graphql; on GitHub Enterprise Server, HOST/api/graphql beside /api/v3.
        if self.api_url.endswith("/api/v3"):
            return self.api_url.removesuffix("/v3") + "/graphql"
        return self.api_url + "/graphql"

    def _graphql_viewer(self) -> str:
        try:
            answer = self._request(
                "POST",
                self._graphql_url(),
                json={"query": "query { viewer { login __typename } }"},
                budget=self._new_budget(),
            ).json()
            login = answer["data"]["viewer"]["login"]
        except (GitHubError, ValueError, KeyError, TypeError):
            login = None
        if not isinstance(login, str) or not login:
            logger.info(
                "The token's login is not readable (neither /user nor GraphQL viewer); taking "
                "it to be %s. A GitHub App's token: pass comment-author <app-slug>[bot].",
                DEFAULT_BOT_LOGIN,
            )
            return DEFAULT_BOT_LOGIN
        # GraphQL names bots without the "[bot]" suffix that REST comments carry.
        if answer["data"]["viewer"].get("__typename", "Bot") == "Bot" and not login.endswith(
            "[bot]"
        ):
            login += "[bot]"
        return login

    def find_pull_request(self, repo: str, head_sha: str, head_repo: str) -> int:
        """The number of the open pull request into `repo` whose head is `head_sha` in `head_repo`.

        For the `workflow_run` half of the fork pattern: GitHub's own record of the run (its
        head SHA and head repository) names the pull request, not anything the fork uploaded.
        `GET /repos/{repo}/commits/{sha}/pulls` only finds branches of `repo` itself, so the
        open pull requests are listed and matched on both the SHA and the repository.
        """
        _check_target(repo, 1)
        if not _REPOSITORY.fullmatch(head_repo) or ".." in head_repo:
            raise ConfigError(f"The head repository {head_repo!r} is not of the form OWNER/NAME.")
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", head_sha):
            raise ConfigError(f"The head SHA {head_sha!r} is not a full commit SHA.")
        budget = self._new_budget()
        url: str | None = self._url(f"/repos/{repo}/pulls?state=open&per_page=100")
        found: list[int] = []
        pages = 0
        while url is not None and pages < _MAX_PAGES:
            pages += 1
            response = self._request("GET", url, budget=budget)
            page = response.json()
            if not isinstance(page, list):
                break
            for pull in page:
                head = (pull or {}).get("head") or {}
                name = str((head.get("repo") or {}).get("full_name", ""))
                if head.get("sha") == head_sha and name.casefold() == head_repo.casefold():
                    found.append(int(pull["number"]))
            url = self._next_link(response)
        if len(found) != 1:
            what = "no open pull request" if not found else f"{len(found)} open pull requests"
            raise NotFoundError(
                f"{what} into {repo} has head {head_sha[:12]} from {head_repo}; nothing was "
                "posted. The pull request may have been closed or pushed to since the run.",
                method="GET",
                path=f"/repos/{repo}/pulls",
            )
        return found[0]

    def list_issue_comments(self, repo: str, issue_number: int) -> Iterator[IssueComment]:
        """Every comment on an issue or pull request, oldest first, across all pages."""
        _check_target(repo, issue_number)
        return self._list_issue_comments(repo, issue_number, self._new_budget())

    def upsert_sticky_comment(
        self, repo: str, issue_number: int, marker: str, body: str
    ) -> CommentResult:
        """Create or update the comment carrying `marker`, written by the token's own login.

        Only comments whose author is `viewer_login()` and whose first line is `marker` count:
        someone else's comment with the same marker is never touched. If several own comments
        qualify, the newest is updated and the older ones are left as they are (deleting
        comments is not this tool's call). The marker is put on the first line of `body` if it
        is not there yet, and the body is trimmed to GitHub's limit.
        """
        _check_target(repo, issue_number)
        if "\n" in marker or not marker.strip():
            raise ConfigError(f"The comment marker {marker!r} must be one non-empty line.")
        text = body if body.split("\n", 1)[0].strip() == marker else f"{marker}\n{body}"
        trimmed, omitted = _trim(text, MAX_COMMENT_CHARS, "the job summary / artifact")
        author = self.viewer_login()
        budget = self._new_budget()
        while True:
            try:
                outcome = self._upsert_once(
                    repo, issue_number, marker, trimmed, author=author, budget=budget
                )
            except _AmbiguousWriteError as ambiguous:
                self._back_off(ambiguous.cause, budget, then="listing the comments again")
                continue
            return outcome.to_result(omitted)

    def _upsert_once(
        self,
        repo: str,
        issue_number: int,
        marker: str,
        body: str,
        *,
        author: str,
        budget: _Budget,
    ) -> _Outcome:
        wanted = author.casefold()
        matches = [
            comment
            for comment in self._list_issue_comments(repo, issue_number, budget)
            if comment.user_login.casefold() == wanted
            and comment.body.split("\n", 1)[0].strip() == marker
        ]
        if not matches:
            path = f"/repos/{repo}/issues/{issue_number}/comments"
            created = self._request("POST", path, json={"body": body}, budget=budget, safe=False)
            return _Outcome("created", _comment(created.json()), ())
        newest, *older = sorted(matches, key=lambda comment: comment.id, reverse=True)
        duplicates = tuple(comment.id for comment in older)
        if newest.body.replace("\r\n", "\n") == body.replace("\r\n", "\n"):
            return _Outcome("unchanged", newest, duplicates)
        path = f"/repos/{repo}/issues/comments/{newest.id}"
        updated = self._request("PATCH", path, json={"body": body}, budget=budget)
        return _Outcome("updated", _comment(updated.json()), duplicates)

    def _list_issue_comments(
        self, repo: str, issue_number: int, budget: _Budget
    ) -> Iterator[IssueComment]:
        _check_target(repo, issue_number)
        url: str | None = self._url(f"/repos/{repo}/issues/{issue_number}/comments?per_page=100")
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(seen) >= _MAX_PAGES:
                raise GitHubError(
                    f"GitHub's pagination for {urlsplit(url).path} loops or exceeds {_MAX_PAGES} "
                    "pages; the comment list cannot be read. Report this as a bug.",
                    method="GET",
                    path=urlsplit(url).path,
                )
            seen.add(url)
            response = self._request("GET", url, budget=budget)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(
                    f"GET {urlsplit(url).path} did not return a list of comments; check that "
                    "the API URL points at GitHub's REST API.",
                    method="GET",
                    path=urlsplit(url).path,
                    status=response.status_code,
                )
            yield from (_comment(item) for item in page)
            url = self._next_link(response)

    def _next_link(self, response: requests.Response) -> str | None:
        match = _LINK_NEXT.search(response.headers.get("Link", ""))
        if match is None:
            return None
        url = match.group(1)
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            # Following it would send the token to another host.
            raise GitHubError(
                f"GitHub's next-page link points at {parts.scheme}://{parts.netloc}, not at "
                f"{self.api_url}; refusing to send the token there. Check the API URL.",
                method="GET",
                path=urlsplit(response.url).path,
                status=response.status_code,
            )
        return url

    def _new_budget(self) -> _Budget:
        return _Budget(self.max_retries, self.max_wait_seconds)

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.api_url}/{path_or_url.lstrip('/')}"

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token.reveal()}",
            "User-Agent": f"lambda-zip-action/{__version__}",
            "X-GitHub-Api-Version": API_VERSION,
        }

    def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        budget: _Budget,
        json: Mapping[str, Any] | None = None,
        safe: bool = True,
    ) -> requests.Response:
        """Send one request, retrying what GitHub says is worth retrying.

        With `safe=False` (a POST), a failure after which the request may have been applied
        (a read time-out, a dropped connection, a 5xx) raises `_AmbiguousWriteError` instead of
        sending it again.
        """
        url = self._url(path_or_url)
        path = urlsplit(url).path
        while True:
            try:
                response = self._session.request(
                    method, url, headers=self._headers(), json=json, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as failure:
                no_answer = _unavailable(method, path, None, type(failure).__name__)
                # A connect time-out means the request never reached GitHub.
                if not safe and not isinstance(failure, requests.ConnectTimeout):
                    raise _AmbiguousWriteError(no_answer) from None
                self._back_off(no_answer, budget, then="retrying")
                continue
            if response.status_code < 400:
                return response
            error = self._error_for(method, path, response)
            if isinstance(error, RateLimitError):
                self._wait_for_rate_limit(error, response, budget)
            elif isinstance(error, UnavailableError):
                if not safe:
                    raise _AmbiguousWriteError(error)
                self._back_off(error, budget, then="retrying")
            else:
                raise error

    def _back_off(self, error: GitHubError, budget: _Budget, *, then: str) -> None:
        """Sleep 1, 2, 4... seconds before the next attempt, or raise `error` when out of budget."""
        wait = float(min(2 ** (self.max_retries - budget.retries), 30))
        if not budget.allows(wait):
            raise error
        reason = error.status if error.status is not None else error.github_message or "no answer"
        logger.warning(
            "GitHub %s %s: %s; %s in %.0f s", error.method, error.path, reason, then, wait
        )
        budget.spend(wait)
        self._sleep(wait)

    def _wait_for_rate_limit(
        self, error: RateLimitError, response: requests.Response, budget: _Budget
    ) -> None:
        wait = _rate_limit_wait(response, self._clock())
        if wait is None:
            wait = _SECONDARY_LIMIT_DEFAULT_WAIT
        if not budget.allows(wait):
            raise RateLimitError(
                f"{error.message} GitHub asks to wait {wait:.0f} s, beyond what is left of this "
                f"run's retry budget ({budget.retries} retries, {budget.seconds:.0f} s). Re-run "
                "the job later; the report is still in the job summary.",
                method=error.method,
                path=error.path,
                status=error.status,
                github_message=error.github_message,
            )
        logger.warning(
            "GitHub %s %s: %s rate-limited; waiting %.0f s as GitHub asks",
            error.method,
            error.path,
            error.status,
            wait,
        )
        budget.spend(wait)
        self._sleep(wait)

    def _error_for(self, method: str, path: str, response: requests.Response) -> GitHubError:
        status = response.status_code
        payload = _json_object(response)
        message = self._redact(str(payload.get("message") or response.reason or ""))
        what = f"GitHub answered {method} {path} with {status}" + (
            f' "{message}"' if message else ""
        )

        headers = response.headers
        kind, advice = _BY_STATUS.get(status, (GitHubError, _UNEXPECTED))
        if status == 429 or (
            status == 403
            and (
                "retry-after" in headers
                or headers.get("x-ratelimit-remaining") == "0"
                or "rate limit" in message.lower()
            )
        ):
            kind, advice = RateLimitError, "rate-limited."
        elif status == 403 and _READ_ONLY_MESSAGE in message.lower():
            kind, advice = ReadOnlyTokenError, _READ_ONLY_ADVICE
        elif status == 422:
            problems = "; ".join(_validation_problems(payload, self._redact))
            advice = (f"{problems}. " if problems else "") + advice
        elif status >= 500:
            return _unavailable(method, path, status, message)
        return kind(
            f"{what}: {advice}",
            method=method,
            path=path,
            status=status,
            github_message=message or None,
        )

    def _redact(self, text: str) -> str:
        token = self._token.reveal()
        return text.replace(token, "<redacted>") if token else text


@dataclass(frozen=True)
class _Outcome:
    action: Literal["created", "updated", "unchanged"]
    comment: IssueComment
    duplicates: tuple[int, ...]

    def to_result(self, omitted: int) -> CommentResult:
        return CommentResult(
            action=self.action,
            comment_id=self.comment.id,
            html_url=self.comment.html_url,
            author_login=self.comment.user_login,
            omitted_chars=omitted,
            duplicate_ids=self.duplicates,
        )


def _check_target(repo: str, issue_number: int) -> None:
    if not _REPOSITORY.fullmatch(repo) or ".." in repo:
        raise ConfigError(f"The repository {repo!r} is not of the form OWNER/NAME.")
    if isinstance(issue_number, bool) or not isinstance(issue_number, int) or issue_number < 1:
        raise ConfigError(f"The pull-request number {issue_number!r} is not a positive integer.")


def _comment(item: Any) -> IssueComment:
    user = item.get("user") or {}
    return IssueComment(
        id=int(item["id"]),
        user_login=str(user.get("login", "")),
        body=str(item.get("body") or ""),
        html_url=str(item.get("html_url", "")),
    )


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _validation_problems(payload: Mapping[str, Any], redact: Callable[[str], str]) -> list[str]:
    problems = []
    for item in payload.get("errors") or []:
        if isinstance(item, dict):
            text = item.get("message") or " ".join(
                str(item[key]) for key in ("resource", "field", "code") if key in item
            )
            problems.append(redact(str(text)))
        else:
            problems.append(redact(str(item)))
    return problems


def _unavailable(method: str, path: str, status: int | None, reason: str) -> UnavailableError:
    """`reason` is GitHub's message with a status, else the name of the network failure."""
    what = (
        f"GitHub answered {method} {path} with {status}" + (f' "{reason}"' if reason else "")
        if status is not None
        else f"GitHub did not answer {method} {path} ({reason})"
    )
    return UnavailableError(
        f"{what}: it is unavailable or too slow. Re-run the job later; see "
        "https://www.githubstatus.com.",
        method=method,
        path=path,
        status=status,
        github_message=reason if status is not None and reason else None,
    )


def _rate_limit_wait(response: requests.Response, now: float) -> float | None:
    """Seconds GitHub asks to wait, from `retry-after` or `x-ratelimit-reset`, if it says."""
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            try:
                return max(parsedate_to_datetime(retry_after).timestamp() - now, 0.0)
            except (TypeError, ValueError):
                return None
    if response.headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(float(response.headers["x-ratelimit-reset"]) - now, 1.0)
        except (KeyError, ValueError):
            return None
    return None
