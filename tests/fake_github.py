"""A loopback fake of the part of GitHub's REST API that sticky comments use, failures included.

It answers like api.github.com: JSON error bodies with `message` and `documentation_url`,
`Link` headers whose URLs use `/repositories/{id}/...` as GitHub's do (so a client must follow
them verbatim), rate-limit headers on every answer, 422 for bodies over 65,536 characters and
403 "Resource not accessible by integration" for `GET /user` with an installation token and for
writes with a read-only token. Knobs inject secondary and primary rate limits, 5xx answers and
slow answers; they are plain attributes, read under the lock on every request.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"
MAX_BODY_CHARS = 65536

BOT_LOGIN = "github-actions[bot]"
# Distinctive strings, so a test can look for them in every message, repr and log line.
BOT_TOKEN = "ghs_FAKEinstallationTOKEN1234567890abcdef"
READ_ONLY_TOKEN = "ghs_FAKEreadONLYtoken1234567890abcdefgh"
PAT_TOKEN = "ghp_FAKEpersonalTOKEN1234567890abcdefghi"
MALLORY_TOKEN = "ghp_FAKEmalloryTOKEN1234567890abcdefghij"
# A GitHub App's installation token (actions/create-github-app-token): /user is refused.
APP_LOGIN = "drift-bot[bot]"
APP_TOKEN = "ghs_FAKEappINSTALLATIONtoken1234567890abc"

_COMMENTS = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments")
_COMMENTS_BY_ID = re.compile(r"/repositories/(\d+)/issues/(\d+)/comments")
_COMMENT = re.compile(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)")
_PULLS = re.compile(r"/repos/([^/]+/[^/]+)/pulls")


@dataclass
class Account:
    login: str
    kind: str = "User"  # or "Bot"
    installation: bool = False  # an installation token: GET /user is refused
    read_only: bool = False  # writes are refused, as for pull requests from forks


@dataclass
class FakeComment:
    id: int
    login: str
    body: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # without Authorization
    body: Any


@dataclass
class FakeGitHub:
    """The server's state and knobs. Change knobs before or between client calls."""

    url: str = ""
    prefix: str = ""
    accounts: dict[str, Account] = field(default_factory=dict)
    repositories: dict[str, int] = field(default_factory=dict)
    issues: dict[tuple[str, int], list[FakeComment]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Knobs
    secondary_limit_writes: int = 0  # the next N writes answer a secondary rate limit
    secondary_limit_status: int = 403
    retry_after: str | None = "1"
    primary_limit_requests: int = 0  # the next N requests answer a primary rate limit
    primary_reset_in: int = 5
    primary_reset_at: int | None = None  # epoch seconds; None: now + primary_reset_in
    server_errors: int = 0  # the next N requests answer server_error_status
    server_error_status: int = 502
    server_error_methods: frozenset[str] | None = None  # None: every method
    slow_requests: int = 0  # the next N requests are applied, then answered after slow_seconds
    slow_seconds: float = 0.0
    slow_methods: frozenset[str] | None = None  # None: every method
    max_body_chars: int = MAX_BODY_CHARS
    link_base: str | None = None  # where Link headers point; None means this server
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000

    @property
    def state(self) -> dict[tuple[str, int], list[FakeComment]]:
        return self.issues

    def add_repository(self, repo: str, issues: tuple[int, ...] = (1,)) -> None:
        with self.lock:
            self.repositories.setdefault(repo, 100 + len(self.repositories))
            for number in issues:
                self.issues.setdefault((repo, number), [])

    def seed(self, repo: str, number: int, login: str, body: str) -> FakeComment:
        with self.lock:
            self.repositories.setdefault(repo, 100 + len(self.repositories))
            comment = self._new_comment(login, body)
            self.issues.setdefault((repo, number), []).append(comment)
            return comment

    def add_pull(
        self, repo: str, number: int, *, head_sha: str, head_repo: str, state: str = "open"
    ) -> None:
        """A pull request into `repo` from `head_repo` (a fork, or `repo` itself)."""
        with self.lock:
            self.repositories.setdefault(repo, 100 + len(self.repositories))
            self.repositories.setdefault(head_repo, 100 + len(self.repositories))
            self.issues.setdefault((repo, number), [])
            self.pulls.setdefault(repo, []).append(
                {
                    "number": number,
                    "state": state,
                    "head": {
                        "sha": head_sha,
                        "ref": f"branch-{number}",
                        "repo": {"full_name": head_repo, "id": self.repositories[head_repo]},
                    },
                    "base": {"ref": "main", "repo": {"full_name": repo}},
                }
            )

    def comments(self, repo: str, number: int) -> list[FakeComment]:
        with self.lock:
            return list(self.issues[(repo, number)])

    def calls(self, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if method is None or r.method == method]

    def _new_comment(self, login: str, body: str) -> FakeComment:
        self._next_id += 1
        # A fixed timestamp per id keeps the ordering GitHub has: ascending creation.
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + self._next_id))
        return FakeComment(self._next_id, login, body, stamp, stamp)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is `FakeGitHub.requests`."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = split.path
        outside_api = bool(fake.prefix) and not path.startswith(fake.prefix + "/")
        if fake.prefix and not outside_api:
            path = path[len(fake.prefix) :]
        query = parse_qs(split.query)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        with fake.lock:
            fake.requests.append(RecordedRequest(self.command, path, query, headers, body))
            answer: tuple[int, Any, dict[str, str]] = (404, _error("Not Found"), {})
            if not outside_api:
                answer = self._answer(fake, path, query, body)
            status, payload, extra = answer
            slow = fake.slow_requests > 0 and _applies(fake.slow_methods, self.command)
            if slow:
                fake.slow_requests -= 1
        if slow:
            time.sleep(fake.slow_seconds)
        self._send(status, payload, extra)

    def _answer(
        self, fake: FakeGitHub, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        write = self.command in ("POST", "PATCH")
        if fake.server_errors > 0 and _applies(fake.server_error_methods, self.command):
            fake.server_errors -= 1
            return fake.server_error_status, {"message": "Server Error"}, {}
        account = self._account(fake)
        if account is None:
            return 401, {"message": "Bad credentials", "documentation_url": DOCS}, {}
        if fake.primary_limit_requests > 0:
            fake.primary_limit_requests -= 1
            reset = fake.primary_reset_at or int(time.time()) + fake.primary_reset_in
            message = f"API rate limit exceeded for user ID 1. {_docs('rate-limits')}"
            return (
                403,
                _error(message),
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            )
        if self.command == "POST" and path == "/graphql":
            # GraphQL's viewer answers for every token, bots included (without "[bot]").
            login = account.login.removesuffix("[bot]")
            return 200, {"data": {"viewer": {"login": login, "__typename": account.kind}}}, {}
        if self.command == "GET" and (match := _PULLS.fullmatch(path)) is not None:
            return self._pulls(fake, match.group(1), query)
        if write and fake.secondary_limit_writes > 0:
            fake.secondary_limit_writes -= 1
            extra = {"retry-after": fake.retry_after} if fake.retry_after is not None else {}
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again."
            )
            return fake.secondary_limit_status, _error(message), extra
        if self.command == "GET" and path == "/user":
            if account.installation:
                return 403, _error("Resource not accessible by integration"), {}
            return 200, {"login": account.login, "id": 1, "type": account.kind}, {}
        if write and account.read_only:
            return 403, _error("Resource not accessible by integration"), {}
        match = _COMMENTS.fullmatch(path)
        if match is not None:
            repo, number = match.group(1), int(match.group(2))
        elif (match := _COMMENTS_BY_ID.fullmatch(path)) is not None and self.command == "GET":
            repo_id = int(match.group(1))
            names = [name for name, ident in fake.repositories.items() if ident == repo_id]
            repo, number = (names[0] if names else ""), int(match.group(2))
        elif (match := _COMMENT.fullmatch(path)) is not None and self.command == "PATCH":
            return self._update(fake, account, match.group(1), int(match.group(2)), body)
        else:
            return 404, _error("Not Found"), {}
        if (repo, number) not in fake.issues:
            return 404, _error("Not Found"), {}
        if self.command == "GET":
            return self._list(fake, repo, number, query)
        if self.command == "POST":
            return self._create(fake, account, repo, number, body)
        return 404, _error("Not Found"), {}

    def _account(self, fake: FakeGitHub) -> Account | None:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        return fake.accounts.get(token)

    def _list(
        self, fake: FakeGitHub, repo: str, number: int, query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(max(int(query.get("per_page", ["30"])[0]), 1), 100)
        page = max(int(query.get("page", ["1"])[0]), 1)
        comments = fake.issues[(repo, number)]
        last = max((len(comments) + per_page - 1) // per_page, 1)
        chunk = comments[(page - 1) * per_page : page * per_page]
        base = fake.link_base or fake.url.removesuffix(fake.prefix)
        where = (
            f"{base}{fake.prefix}/repositories/{fake.repositories[repo]}/issues/{number}/comments"
        )

        def link(to: int, rel: str) -> str:
            return f'<{where}?{urlencode({"per_page": per_page, "page": to})}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first")]
        extra = {"Link": ", ".join(links)} if links else {}
        return 200, [_comment_json(repo, number, c) for c in chunk], extra

    def _pulls(
        self, fake: FakeGitHub, repo: str, query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        if repo not in fake.repositories:
            return 404, _error("Not Found"), {}
        state = query.get("state", ["open"])[0]
        per_page = min(max(int(query.get("per_page", ["30"])[0]), 1), 100)
        page = max(int(query.get("page", ["1"])[0]), 1)
        pulls = [p for p in fake.pulls.get(repo, []) if state == "all" or p["state"] == state]
        chunk = pulls[(page - 1) * per_page : page * per_page]
        extra = {}
        if page * per_page < len(pulls):
            where = f"{fake.url}/repos/{repo}/pulls"
            following = urlencode({"state": state, "per_page": per_page, "page": page + 1})
            extra["Link"] = f'<{where}?{following}>; rel="next"'
        return 200, chunk, extra

    def _create(
        self, fake: FakeGitHub, account: Account, repo: str, number: int, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        problem = _check_body(fake, body)
        if problem is not None:
            return problem
        comment = fake._new_comment(account.login, body["body"])
        fake.issues[(repo, number)].append(comment)
        return 201, _comment_json(repo, number, comment), {}

    def _update(
        self, fake: FakeGitHub, account: Account, repo: str, comment_id: int, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        for (owner_repo, number), comments in fake.issues.items():
            for comment in comments:
                if owner_repo != repo or comment.id != comment_id:
                    continue
                if comment.login != account.login:
                    return 403, _error("You do not have permission to edit this comment."), {}
                problem = _check_body(fake, body)
                if problem is not None:
                    return problem
                comment.body = body["body"]
                comment.updated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                return 200, _comment_json(repo, number, comment), {}
        return 404, _error("Not Found"), {}

    def _send(self, status: int, payload: Any, extra: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-github-request-id", "FAKE:0001")
        self.send_header("x-ratelimit-limit", "5000")
        self.send_header("x-ratelimit-resource", "core")
        if "x-ratelimit-remaining" not in extra:
            self.send_header("x-ratelimit-remaining", "4999")
            self.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        # A client that timed out has gone away, as clients do.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGitHub


def _applies(methods: frozenset[str] | None, method: str) -> bool:
    return methods is None or method in methods


def _docs(topic: str) -> str:
    return f"(But here's the good news: see {DOCS}/{topic}.)"


def _error(message: str) -> dict[str, str]:
    return {"message": message, "documentation_url": DOCS}


def _check_body(fake: FakeGitHub, body: Any) -> tuple[int, Any, dict[str, str]] | None:
    if not isinstance(body, dict) or not isinstance(body.get("body"), str):
        return 422, _error('Invalid request.\n\n"body" wasn\'t supplied.'), {}
    if len(body["body"]) > fake.max_body_chars:
        too_long = f"body is too long (maximum is {fake.max_body_chars} characters)"
        return (
            422,
            {
                "message": "Validation Failed",
                "errors": [
                    {
                        "resource": "IssueComment",
                        "code": "custom",
                        "field": "body",
                        "message": too_long,
                    }
                ],
                "documentation_url": f"{DOCS}/issues/comments#create-an-issue-comment",
            },
            {},
        )
    return None


def _comment_json(repo: str, number: int, comment: FakeComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "node_id": f"IC_fake{comment.id}",
        "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment.id}",
        "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{comment.id}",
        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "body": comment.body,
        "user": {
            "login": comment.login,
            "type": "Bot" if comment.login.endswith("[bot]") else "User",
        },
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "author_association": "NONE",
    }


def default_accounts() -> dict[str, Account]:
    return {
        BOT_TOKEN: Account(BOT_LOGIN, "Bot", installation=True),
        READ_ONLY_TOKEN: Account(BOT_LOGIN, "Bot", installation=True, read_only=True),
        PAT_TOKEN: Account("alice"),
        MALLORY_TOKEN: Account("mallory"),
        APP_TOKEN: Account(APP_LOGIN, "Bot", installation=True),
    }


@contextmanager
def fake_github(*, prefix: str = "", **knobs: Any) -> Iterator[FakeGitHub]:
    """Serve a `FakeGitHub` on 127.0.0.1; `.url` is its API root (with `prefix`, e.g. /api/v3)."""
    fake = FakeGitHub(prefix=prefix, accounts=default_accounts(), **knobs)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-github", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
