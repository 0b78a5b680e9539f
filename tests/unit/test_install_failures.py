"""Install failures are told apart from what the installer really said.

The classifier is checked against captured real output (tests/data/installer-output/) for
every kind and both installers, and once end to end: an old pydantic-core without a cp313
wheel makes uv build its Rust sdist, cargo fails to reach its index, and the message must name
the package and the failed source build, not blame the network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_zip_action.install_failures import explain_failure
from lambda_zip_action.runtimes import RUNTIMES

import support

OUTPUTS = support.DATA / "installer-output"

# kind -> words the message must hold, words it must not
EXPECTED = {
    "buildfail": (["pydantic-core", "2.10.1", "source distribution", "build failed"], ["network"]),
    "hash": (["idna", "did not match the hash"], ["network"]),
    "network": (["could not download", "check the network"], ["conflict", "No wheel"]),
    "conflict": (["conflict", "urllib3"], ["network", "No wheel"]),
    "missing": (["has no requests==99.0"], ["network", "conflict"]),
    "nowheel": (["ujson", "1.35"], ["network", "conflict"]),
}


@pytest.mark.parametrize("installer", ["uv", "pip"])
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_real_failure_gets_its_own_message(kind: str, installer: str) -> None:
    output = (OUTPUTS / f"{kind}.{installer}.txt").read_text(encoding="utf-8")
    runtime = RUNTIMES["3.13" if kind == "buildfail" else "3.12"]
    message = explain_failure(output, runtime, "x86_64").message
    wanted, unwanted = EXPECTED[kind]
    for words in wanted:
        assert words in message, (kind, installer, message)
    for words in unwanted:
        assert words not in message, (kind, installer, message)


def test_messages_differ_between_kinds() -> None:
    first_sentences = {
        kind: explain_failure(
            (OUTPUTS / f"{kind}.uv.txt").read_text(encoding="utf-8"), RUNTIMES["3.12"], "x86_64"
        ).message.split(":")[0]
        for kind in EXPECTED
    }
    assert len(set(first_sentences.values())) == len(first_sentences), first_sentences


@pytest.mark.slow
def test_rust_sdist_without_a_wheel_is_named_not_blamed_on_the_network(tmp_path: Path) -> None:
    project = tmp_path / "old-core"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (project / "requirements.txt").write_text("pydantic-core==2.10.1\n")
    completed = support.run_cli(
        "build", "--project", str(project), "--source", str(project / "src"),
        "--python-version", "3.13", "--python", str(support.interpreter("3.13")),
        "--output", str(tmp_path / "out.zip"),
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    message = completed.stderr
    assert "Traceback" not in message
    assert "pydantic-core==2.10.1" in message
    assert "source distribution, and the build failed" in message
    assert "check the network" not in message
    assert not (tmp_path / "out.zip").exists()
