"""compare-to, `lambda-zip diff` and `lambda-zip audit` against what is deployed, read with real
boto3 from a moto server on 127.0.0.1: S3 objects uploaded in one part and in several, a Lambda
function and a layer version created from our own zip (moto computes their CodeSha256)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_zip_action import cli
from lambda_zip_action.markdown import escape_inline

import support
from loopback_aws import CREDENTIALS, client, free_port, moto_server

HANDLER = "def handler(event, context):\n    return {'answer': 42}\n"
CHANGED = "def handler(event, context):\n    return {'answer': 43}\n"
BUCKET = "deployments"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        client("s3", url).create_bucket(Bucket=BUCKET)
        yield url


def make_project(root: Path) -> Path:
    """A project without dependencies (builds in a second), committed in its own git repo."""
    (root / "src" / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.12"\n'
        'dependencies = []\n\n[tool.lambda-zip]\npython-version = "3.12"\n'
    )
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "handler.py").write_text(HANDLER)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def aws_env(endpoint: str, **overrides: str | None) -> dict[str, str]:
    return support.tool_env(**{**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, **overrides})


def build_zip(project: Path, output: Path) -> dict[str, Any]:
    return support.build_project(project, output)


def deploy(endpoint: str, zip_path: Path, name: str) -> dict[str, str]:
    """Our zip as S3 objects (one PutObject, one multipart upload), a function and a layer
    version; what each is called."""
    import boto3.s3.transfer

    data = zip_path.read_bytes()
    s3 = client("s3", endpoint)
    s3.put_object(Bucket=BUCKET, Key=f"{name}/single.zip", Body=data)
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=1, multipart_chunksize=5 << 20)
    s3.upload_file(str(zip_path), BUCKET, f"{name}/multipart.zip", Config=config)
    etag = s3.head_object(Bucket=BUCKET, Key=f"{name}/multipart.zip")["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}-1"', etag), etag  # really a multipart upload
    lam = client("lambda", endpoint)
    role = client("iam", endpoint).create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                        Handler="app.handler.handler", Code={"ZipFile": data})  # fmt: skip
    layer = lam.publish_layer_version(LayerName=f"{name}-layer", Content={"ZipFile": data})
    return {
        "single": f"s3://{BUCKET}/{name}/single.zip",
        "multipart": f"s3://{BUCKET}/{name}/multipart.zip",
        "function": f"lambda:{name}",
        "layer": layer["LayerVersionArn"],
    }


def cli_run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return support.run_cli(*args, env=env)


def assert_one_paragraph(result: subprocess.CompletedProcess[str], *forbidden: str) -> str:
    assert result.returncode == 2, support.explain(result)
    assert "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("lambda-zip: AWS error:") or "error:" in message, message
    for secret in forbidden:
        assert secret not in result.stdout + result.stderr
    return message


# --- audit and diff: the CLI -------------------------------------------------------------------


def test_audit_says_production_is_this_commit_then_names_the_changed_file(
    moto: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "demo")
    built = build_zip(project, tmp_path / "deployed.zip")
    targets = deploy(moto, tmp_path / "deployed.zip", "demo")
    env = aws_env(moto, HTTPS_PROXY="http://127.0.0.1:9")  # moto's code location is not here
    for kind in ("single", "multipart", "function", "layer"):
        result = cli_run(env, "audit", targets[kind], "--project", str(project),
                         "--python", str(support.interpreter("3.12")))  # fmt: skip
        assert result.returncode == 0, (kind, support.explain(result))
        assert result.stdout.startswith(f"production is the project {project}, byte for byte")
        assert built["sha256"] in result.stdout

    (project / "src" / "app" / "handler.py").write_text(CHANGED)
    for kind in ("single", "multipart"):
        result = cli_run(env, "audit", targets[kind], "--project", str(project))
        assert result.returncode == 1, support.explain(result)
        assert result.stdout.startswith("production is NOT")
        assert "### Lambda package demo: changed" in result.stdout
        assert "app/handler.py" in result.stdout  # the file-level report
        assert "app/__init__.py" not in result.stdout
    # Lambda's code location (moto's points at AWS) cannot be fetched: CodeSha256 decides.
    result = cli_run(env, "audit", targets["function"], "--project", str(project))
    assert result.returncode == 1, support.explain(result)
    assert "### Lambda package demo: changed" in result.stdout
    assert "there is no file-level report" in result.stderr

    # The committed version is what production runs: --ref builds it from a worktree.
    head = git(project, "rev-parse", "HEAD")
    result = cli_run(env, "audit", targets["single"], "--project", str(project), "--ref", "HEAD")
    assert result.returncode == 0, support.explain(result)
    assert result.stdout.startswith(f"production is commit {head}, byte for byte")
    git(project, "commit", "-q", "-am", "v2")
    result = cli_run(env, "audit", targets["single"], "--project", str(project), "--ref", "HEAD")
    assert result.returncode == 1, support.explain(result)
    result = cli_run(env, "audit", targets["layer"], "--project", str(project), "--ref", "HEAD~1")
    assert result.returncode == 0, support.explain(result)
    assert git(project, "worktree", "list").count("\n") == 0  # the worktree was removed

    # diff takes what is deployed as its old side.
    new = tmp_path / "new.zip"
    build_zip(project, new)
    result = cli_run(env, "diff", targets["multipart"], str(new), "--format", "markdown")
    assert result.returncode == 1, support.explain(result)
    assert "app/handler.py" in result.stdout
    result = cli_run(env, "diff", targets["single"], str(tmp_path / "deployed.zip"))
    assert result.returncode == 0, support.explain(result)
    assert "identical bytes" in result.stdout


def test_audit_picks_one_function_of_a_multi_function_project(moto: str, tmp_path: Path) -> None:
    project = tmp_path / "multi"
    for name in ("orders", "billing"):
        (project / name).mkdir(parents=True)
        (project / name / "app.py").write_text(f"def handler(e, c):\n    return {name!r}\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "multi"\nversion = "1"\nrequires-python = ">=3.12"\n\n'
        '[tool.lambda-zip]\npython-version = "3.12"\n\n'
        '[tool.lambda-zip.functions.orders]\nsource = "orders"\nhandler = "app.handler"\n\n'
        '[tool.lambda-zip.functions.billing]\nsource = "billing"\nhandler = "app.handler"\n'
    )
    completed = cli_run(support.tool_env(), "build", "--project", str(project), "--json")
    assert completed.returncode == 0, support.explain(completed)
    targets = deploy(moto, project / "dist" / "billing.zip", "billing")
    env = aws_env(moto, HTTPS_PROXY="http://127.0.0.1:9")

    result = cli_run(env, "audit", targets["single"], "--project", str(project))
    assert_one_paragraph(result)
    assert "pick the one that is deployed there with --function NAME" in result.stderr
    result = cli_run(env, "audit", targets["single"], "--project", str(project),
                     "--function", "billing", "--json")  # fmt: skip
    assert result.returncode == 0, support.explain(result)
    document = json.loads(result.stdout)
    assert document["same"] is True and document["commit"] is None
    assert document["sha256"] == document["deployed-sha256"]
    assert document["deployed"] == targets["single"]
    result = cli_run(env, "audit", targets["function"], "--project", str(project),
                     "--function", "orders")  # fmt: skip
    assert result.returncode == 1, support.explain(result)


# --- the Action's compare-to -------------------------------------------------------------------


def action_env(tmp_path: Path, endpoint: str, compare_to: str) -> dict[str, str]:
    env = aws_env(endpoint, GITHUB_TOKEN=None, HTTPS_PROXY="http://127.0.0.1:9")
    env.update(
        GITHUB_WORKSPACE=str(tmp_path / "workspace"),
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_REPOSITORY="o/r",
        INPUT_WORKING_DIRECTORY="fn",
        INPUT_VERIFY="false",
        INPUT_COMMENT="false",
        INPUT_COMPARE_TO=compare_to,
    )
    return env


def run_action(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    (tmp_path / "output.txt").write_text("")
    (tmp_path / "summary.md").write_text("")
    assert cli.main(["action"], env) == 0
    return support.read_action_outputs(tmp_path / "output.txt")


def test_action_compare_to_reads_s3_and_lambda(
    moto: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "workspace" / "fn")
    built = build_zip(project, tmp_path / "deployed.zip")
    targets = deploy(moto, tmp_path / "deployed.zip", "fn")
    for kind in ("single", "multipart", "function", "layer"):
        outputs = run_action(tmp_path, action_env(tmp_path, moto, targets[kind]))
        assert outputs["changed"] == "false", kind
        assert outputs["baseline-sha256"] == built["sha256"]

    (project / "src" / "app" / "handler.py").write_text(CHANGED)
    for kind in ("single", "multipart"):
        outputs = run_action(tmp_path, action_env(tmp_path, moto, targets[kind]))
        assert outputs["changed"] == "true"
        report = Path(outputs["report"]).read_text()
        assert "app/handler.py" in report, report
        # The old side is named, escaped as every name in a report is (no autolink).
        assert escape_inline(f"deployed {targets[kind]}") in report
    capsys.readouterr()
    outputs = run_action(tmp_path, action_env(tmp_path, moto, targets["function"]))
    assert outputs["changed"] == "true"
    assert "::warning" in capsys.readouterr().out  # why there is no file-level report

    # No such object: one paragraph, exit 2.
    env = action_env(tmp_path, moto, f"s3://{BUCKET}/fn/missing.zip")
    assert cli.main(["action"], env) == 2


# --- Lambda's code location --------------------------------------------------------------------


@contextlib.contextmanager
def code_location(moto_url: str, served: dict[str, bytes]) -> Iterator[str]:
    """The Lambda API of moto behind a loopback front whose GetFunction answers name a code
    location on 127.0.0.1, as AWS names a presigned S3 URL, serving `served[function]`."""

    class Front(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            if self.path.startswith("/code/"):
                body, status = served[self.path.removeprefix("/code/")], 200
                headers = {"Content-Type": "application/zip"}
            else:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                request = urllib.request.Request(
                    moto_url + self.path, data=data, method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )  # fmt: skip
                try:
                    with urllib.request.urlopen(request) as answer:
                        status, body = answer.status, answer.read()
                        headers = {"Content-Type": answer.headers.get("Content-Type", "")}
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                    headers = {"Content-Type": error.headers.get("Content-Type", "")}
                    headers.update({k: v for k, v in error.headers.items()
                                    if k.lower().startswith("x-amz")})  # fmt: skip
                match = re.fullmatch(r"/2015-03-31/functions/([^/?]+)(\?.*)?", self.path)
                if self.command == "GET" and match and status == 200:
                    document = json.loads(body)
                    document["Code"]["Location"] = f"{front}/code/{match[1]}"
                    body = json.dumps(document).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Front)
    front = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield front
    finally:
        server.shutdown()
        server.server_close()


def test_lambda_code_is_fetched_from_its_location_and_checked(moto: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "located")
    build_zip(project, tmp_path / "deployed.zip")
    targets = deploy(moto, tmp_path / "deployed.zip", "located")
    served = {"located": (tmp_path / "deployed.zip").read_bytes()}
    (project / "src" / "app" / "handler.py").write_text(CHANGED)
    with code_location(moto, served) as front:
        env = aws_env(front, AWS_ENDPOINT_URL_S3=moto)
        result = cli_run(env, "audit", targets["function"], "--project", str(project))
        assert result.returncode == 1, support.explain(result)
        assert "app/handler.py" in result.stdout  # the file-level report, from the location
        assert "no file-level report" not in result.stderr

        # A location serving other bytes than CodeSha256 names is not believed.
        data = bytearray((tmp_path / "deployed.zip").read_bytes())
        data[len(data) // 2] ^= 0xFF
        served["located"] = bytes(data)
        result = cli_run(env, "audit", targets["function"], "--project", str(project))
        assert result.returncode == 1, support.explain(result)
        assert "served other bytes than CodeSha256 names" in result.stderr
        assert "app/handler.py" not in result.stdout
        assert "/code/located" not in result.stdout + result.stderr  # the URL is never shown


# --- errors ------------------------------------------------------------------------------------


def test_errors_are_one_paragraph_without_secrets(moto: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "errs")
    build_zip(project, tmp_path / "deployed.zip")
    deploy(moto, tmp_path / "deployed.zip", "errs")
    audit = ("audit", "--project", str(project))

    # No credentials anywhere in the chain.
    empty = tmp_path / "nothing"
    empty.mkdir()
    bare = aws_env(moto, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, HOME=str(empty),
                   AWS_SHARED_CREDENTIALS_FILE=str(empty / "credentials"),
                   AWS_CONFIG_FILE=str(empty / "config"))  # fmt: skip
    message = assert_one_paragraph(cli_run(bare, *audit[:1], f"s3://{BUCKET}/errs/single.zip",
                                           *audit[1:]))  # fmt: skip
    assert "No AWS credentials" in message

    # No such function, object, bucket, layer version.
    env = aws_env(moto)
    for target, words in (
        ("lambda:nobody", "no such function"),
        (f"s3://{BUCKET}/errs/none.zip", "no such object"),
        ("s3://no-such-bucket-here/x.zip", "no such bucket"),
        ("arn:aws:lambda:us-east-1:123456789012:layer:errs-layer:9", "no such function"),
    ):
        assert words in assert_one_paragraph(cli_run(env, "diff", target, str(project)))

    # An endpoint that does not answer.
    closed = aws_env(f"http://127.0.0.1:{free_port()}")
    assert "could not be reached" in assert_one_paragraph(
        cli_run(closed, "diff", "lambda:errs", str(tmp_path / "deployed.zip"))
    )

    # Not a form we read.
    assert "names no deployed package" in assert_one_paragraph(
        cli_run(env, "diff", "s3://bucket-only", str(tmp_path / "deployed.zip"))
    )


def test_access_denied_never_prints_the_credentials(tmp_path: Path) -> None:
    # A moto server that checks every request after the first four (the setup below).
    with moto_server(tmp_path / "moto.log",
                     dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4")) as url:  # fmt: skip
        s3 = client("s3", url)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="x.zip", Body=b"PK")
        iam = client("iam", url)
        iam.create_user(UserName="reader")  # no policy: may read nothing
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        env = aws_env(url, AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                      AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])  # fmt: skip
        result = cli_run(env, "diff", f"s3://{BUCKET}/x.zip", str(tmp_path))
        message = assert_one_paragraph(result, key["SecretAccessKey"], key["AccessKeyId"])
        assert "AWS denied reading" in message and "AccessDenied" in message


def test_boto3_is_optional_until_aws_is_asked(tmp_path: Path) -> None:
    """Without boto3 (an import that fails, as in an install without the aws extra) diff of two
    zips works, and an AWS form says how to get it."""
    project = make_project(tmp_path / "opt")
    build_zip(project, tmp_path / "a.zip")
    blocked = (
        "import sys; sys.modules['boto3'] = None; "
        "from lambda_zip_action.cli import main; raise SystemExit(main(sys.argv[1:]))"
    )
    run = [sys.executable, "-c", blocked, "diff"]
    ok = subprocess.run([*run, str(tmp_path / "a.zip"), str(tmp_path / "a.zip")], check=False,
                        env=support.tool_env(), capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, support.explain(ok)
    missing = subprocess.run([*run, "lambda:fn", str(tmp_path / "a.zip")], check=False,
                             env=support.tool_env(), capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 2, support.explain(missing)
    assert "pip install 'lambda-zip-action[aws]'" in missing.stderr
    assert "Traceback" not in missing.stderr
