"""Real AWS clients against loopback stand-ins: a moto server as the S3, Lambda, IAM and STS API,
and a small Lambda Runtime API for AWS's own runtime interface client (awslambdaric).

Both listen on 127.0.0.1 on a free port and stop with the fixture that started them.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def moto_server(log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`moto_server` on 127.0.0.1:<free port>, in `env` if given; yields its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
                    time.sleep(0.2)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def client(service: str, endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


@dataclass
class RuntimeAPI:
    """The Lambda Runtime API (2018-06-01) for one function: events in, results out."""

    events: queue.Queue[tuple[str, bytes]] = field(default_factory=queue.Queue)
    results: queue.Queue[tuple[str, str, bytes]] = field(default_factory=queue.Queue)
    address: str = ""
    # Set when the runtime first asks for an event: it has imported the handler (its init is done).
    waiting: threading.Event = field(default_factory=threading.Event)

    def invoke(self, event: dict[str, Any]) -> str:
        request_id = str(uuid.uuid4())
        self.events.put((request_id, json.dumps(event).encode()))
        return request_id

    def result(self, timeout: float) -> tuple[str, str, Any]:
        """(request id, "response" or "error" or "init-error", decoded JSON body)."""
        request_id, kind, body = self.results.get(timeout=timeout)
        return request_id, kind, json.loads(body or b"null")


@contextlib.contextmanager
def runtime_api() -> Iterator[RuntimeAPI]:
    api = RuntimeAPI()
    prefix = "/2018-06-01/runtime"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != f"{prefix}/invocation/next":
                self._reply(404, b'{"errorType":"NotFound"}')
                return
            api.waiting.set()
            request_id, body = api.events.get()  # blocks, as Lambda does between invocations
            deadline = int((time.time() + 30) * 1000)
            self._reply(
                200,
                body,
                {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": (
                        f"arn:aws:lambda:{REGION}:123456789012:function:fn"
                    ),
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = self.path.removeprefix(prefix + "/").split("/")
            if parts == ["init", "error"]:
                api.results.put(("", "init-error", body))
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                api.results.put((parts[1], parts[2], body))
            else:
                self._reply(404, b'{"errorType":"NotFound"}')
                return
            self._reply(202, b'{"status":"OK"}')

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            # The runtime client is stopped mid-connection at the end of a test: not an error.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    api.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
