"""What GitHub's error answers mean: one exception class per kind, with advice to act on.

Every message names the request (method and path), GitHub's status and GitHub's own message,
with the token redacted by the caller's `redact`, then says what to do about it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from lambda_zip_action.errors import LambdaZipError

_READ_ONLY_MESSAGE = "resource not accessible by integration"

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


def error_for(
    method: str, path: str, response: requests.Response, redact: Callable[[str], str]
) -> GitHubError:
    """The error for an answer of 400 or more; `redact` removes the token from GitHub's text."""
    status = response.status_code
    payload = _json_object(response)
    message = redact(str(payload.get("message") or response.reason or ""))
    what = f"GitHub answered {method} {path} with {status}" + (f' "{message}"' if message else "")

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
        problems = "; ".join(_validation_problems(payload, redact))
        advice = (f"{problems}. " if problems else "") + advice
    elif status >= 500:
        return unavailable(method, path, status, message)
    return kind(
        f"{what}: {advice}",
        method=method,
        path=path,
        status=status,
        github_message=message or None,
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


def unavailable(method: str, path: str, status: int | None, reason: str) -> UnavailableError:
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
