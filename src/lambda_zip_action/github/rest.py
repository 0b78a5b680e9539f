"""A small GitHub REST client for one job: the token, retries, errors and the login it writes as.

The caller passes everything in (API URL, token, author login); nothing here reads the
environment. The token only ever travels in the `Authorization` header: it is kept in a
wrapper whose repr is masked, and redacted from every message this module builds.

Retries follow GitHub's guidance for rate limits: honour `retry-after`, else wait until
`x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else wait a minute for a secondary limit;
server errors, time-outs and dropped connections back off exponentially. Every public operation
has one budget of retries and of total waiting (a `Budget`); when a wait would exceed it, the
client gives up at once instead of sleeping in vain.

A write whose outcome is unknown (a POST that timed out or got a 5xx) is not blindly re-sent:
`request(..., safe=False)` raises `AmbiguousWriteError`, and the caller looks before writing
again (see comments.upsert_sticky_comment).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from lambda_zip_action import __version__
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.github.errors import (
    AuthError,
    GitHubError,
    RateLimitError,
    ReadOnlyTokenError,
    UnavailableError,
    error_for,
    unavailable,
)

logger = logging.getLogger(__name__)

DEFAULT_BOT_LOGIN = "github-actions[bot]"
API_VERSION = "2022-11-28"
# The most pages a listing follows: GitHub's pagination is not trusted to end.
MAX_PAGES = 1000

_SECONDARY_LIMIT_DEFAULT_WAIT = 60.0
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


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


class Budget:
    """Retries and seconds of waiting left for one public operation."""

    def __init__(self, retries: int, seconds: float) -> None:
        self.retries = retries
        self.seconds = seconds

    def allows(self, wait: float) -> bool:
        return self.retries > 0 and wait <= self.seconds

    def spend(self, wait: float) -> None:
        self.retries -= 1
        self.seconds -= wait


class AmbiguousWriteError(Exception):
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
                user = self.request("GET", "/user", budget=self.new_budget()).json()
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
            answer = self.request(
                "POST",
                self._graphql_url(),
                json={"query": "query { viewer { login __typename } }"},
                budget=self.new_budget(),
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

    def next_link(self, response: requests.Response) -> str | None:
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

    def new_budget(self) -> Budget:
        return Budget(self.max_retries, self.max_wait_seconds)

    def url_for(self, path_or_url: str) -> str:
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

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        budget: Budget,
        json: Mapping[str, Any] | None = None,
        safe: bool = True,
    ) -> requests.Response:
        """Send one request, retrying what GitHub says is worth retrying.

        With `safe=False` (a POST), a failure after which the request may have been applied
        (a read time-out, a dropped connection, a 5xx) raises `AmbiguousWriteError` instead of
        sending it again.
        """
        url = self.url_for(path_or_url)
        path = urlsplit(url).path
        while True:
            try:
                response = self._session.request(
                    method, url, headers=self._headers(), json=json, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as failure:
                no_answer = unavailable(method, path, None, type(failure).__name__)
                # A connect time-out means the request never reached GitHub.
                if not safe and not isinstance(failure, requests.ConnectTimeout):
                    raise AmbiguousWriteError(no_answer) from None
                self.back_off(no_answer, budget, then="retrying")
                continue
            if response.status_code < 400:
                return response
            error = error_for(method, path, response, self._redact)
            if isinstance(error, RateLimitError):
                self._wait_for_rate_limit(error, response, budget)
            elif isinstance(error, UnavailableError):
                if not safe:
                    raise AmbiguousWriteError(error)
                self.back_off(error, budget, then="retrying")
            else:
                raise error

    def back_off(self, error: GitHubError, budget: Budget, *, then: str) -> None:
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
        self, error: RateLimitError, response: requests.Response, budget: Budget
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

    def _redact(self, text: str) -> str:
        token = self._token.reveal()
        return text.replace(token, "<redacted>") if token else text


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
