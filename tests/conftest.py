from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import support

# The fixture projects are packaged by the tests, never collected as tests themselves.
collect_ignore = ["projects"]

SLOW_SKIP_REASON = "slow matrix case: run with --run-slow; CI runs it"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (CI=true does the same)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "corpus: the real-world corpus (tests/corpus/, slow); `pytest -m corpus --run-slow`",
    )
    config.addinivalue_line(
        "markers",
        "realworld: public projects' layouts built with no flag (tests/realworld/, slow); "
        "`pytest -m realworld --run-slow`",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or os.environ.get("CI", "").lower() == "true":
        return
    skip_slow = pytest.mark.skip(reason=SLOW_SKIP_REASON)
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session", autouse=True)
def shared_uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One uv cache for the whole session: scripts/test's, else a fresh one for this run.

    Set in os.environ so that tool_env() and any subprocess a test starts agree on it.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UV_PYTHON_DOWNLOADS", "never")
        cache = os.environ.get("UV_CACHE_DIR")
        if not cache:
            cache = str(tmp_path_factory.mktemp("uv-cache"))
            patch.setenv("UV_CACHE_DIR", cache)
        yield Path(cache)


@pytest.fixture(scope="session")
def tool_environment(shared_uv_cache: Path) -> dict[str, str]:
    """The environment for subprocesses that run uv, pip or the CLI."""
    return support.tool_env()


@pytest.fixture(scope="session")
def interpreter() -> Callable[[str], Path]:
    """support.interpreter as a fixture: `interpreter("3.12")` is a working CPython 3.12."""
    return support.interpreter
