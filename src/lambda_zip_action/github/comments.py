"""The sticky pull-request comment: one comment per package, found again by its marker.

A comment is the package's own when its author is the token's login and its first line is the
package's marker (`marker_for`); someone else's comment with the same marker is never touched.
The body is trimmed to GitHub's limit without breaking the markdown around the cut.

A write whose outcome is unknown (a POST that timed out or got a 5xx) is not blindly re-sent:
`upsert_sticky_comment` lists the comments again, so a comment that was in fact created is
updated rather than duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from lambda_zip_action.errors import ConfigError
from lambda_zip_action.github.errors import GitHubError, NotFoundError
from lambda_zip_action.github.rest import MAX_PAGES, AmbiguousWriteError, Budget, GitHubClient

MAX_COMMENT_CHARS = 65536
MARKER_PREFIX = "lambda-zip-action:"

_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_DETAILS_OPEN = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


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


def upsert_sticky_comment(
    client: GitHubClient, repo: str, issue_number: int, marker: str, body: str
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
    author = client.viewer_login()
    budget = client.new_budget()
    while True:
        try:
            outcome = _upsert_once(
                client, repo, issue_number, marker, trimmed, author=author, budget=budget
            )
        except AmbiguousWriteError as ambiguous:
            client.back_off(ambiguous.cause, budget, then="listing the comments again")
            continue
        return outcome.to_result(omitted)


def _upsert_once(
    client: GitHubClient,
    repo: str,
    issue_number: int,
    marker: str,
    body: str,
    *,
    author: str,
    budget: Budget,
) -> _Outcome:
    wanted = author.casefold()
    matches = [
        comment
        for comment in _list_issue_comments(client, repo, issue_number, budget)
        if comment.user_login.casefold() == wanted
        and comment.body.split("\n", 1)[0].strip() == marker
    ]
    if not matches:
        path = f"/repos/{repo}/issues/{issue_number}/comments"
        created = client.request("POST", path, json={"body": body}, budget=budget, safe=False)
        return _Outcome("created", _comment(created.json()), ())
    newest, *older = sorted(matches, key=lambda comment: comment.id, reverse=True)
    duplicates = tuple(comment.id for comment in older)
    if newest.body.replace("\r\n", "\n") == body.replace("\r\n", "\n"):
        return _Outcome("unchanged", newest, duplicates)
    path = f"/repos/{repo}/issues/comments/{newest.id}"
    updated = client.request("PATCH", path, json={"body": body}, budget=budget)
    return _Outcome("updated", _comment(updated.json()), duplicates)


def _list_issue_comments(
    client: GitHubClient, repo: str, issue_number: int, budget: Budget
) -> Iterator[IssueComment]:
    _check_target(repo, issue_number)
    url: str | None = client.url_for(f"/repos/{repo}/issues/{issue_number}/comments?per_page=100")
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise GitHubError(
                f"GitHub's pagination for {urlsplit(url).path} loops or exceeds {MAX_PAGES} "
                "pages; the comment list cannot be read. Report this as a bug.",
                method="GET",
                path=urlsplit(url).path,
            )
        seen.add(url)
        response = client.request("GET", url, budget=budget)
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
        url = client.next_link(response)


def find_pull_request(client: GitHubClient, repo: str, head_sha: str, head_repo: str) -> int:
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
    budget = client.new_budget()
    url: str | None = client.url_for(f"/repos/{repo}/pulls?state=open&per_page=100")
    found: list[int] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        response = client.request("GET", url, budget=budget)
        page = response.json()
        if not isinstance(page, list):
            break
        for pull in page:
            head = (pull or {}).get("head") or {}
            name = str((head.get("repo") or {}).get("full_name", ""))
            if head.get("sha") == head_sha and name.casefold() == head_repo.casefold():
                found.append(int(pull["number"]))
        url = client.next_link(response)
    if len(found) != 1:
        what = "no open pull request" if not found else f"{len(found)} open pull requests"
        raise NotFoundError(
            f"{what} into {repo} has head {head_sha[:12]} from {head_repo}; nothing was "
            "posted. The pull request may have been closed or pushed to since the run.",
            method="GET",
            path=f"/repos/{repo}/pulls",
        )
    return found[0]


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
