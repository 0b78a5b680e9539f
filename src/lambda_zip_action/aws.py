"""What is deployed, read from AWS: an S3 object, a Lambda function's code or a layer version's.

`compare-to` (and `lambda-zip diff`, `lambda-zip audit`) accept, besides hashes and files:

- `s3://BUCKET/KEY[?versionId=ID]`: the object is downloaded (GetObject), so the report lists
  every file that differs;
- `lambda:FUNCTION[:QUALIFIER]` (or the function's ARN): GetFunction's `CodeSha256` says
  whether it changed; the code is downloaded from the `Code.Location` it returns, when that
  answers, for the file-level report;
- a layer version's ARN, `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`: the same, from
  GetLayerVersionByArn's `Content`.

Credentials come from the usual AWS chain (boto3's default session: environment, profile,
SSO, web identity, instance or container role); `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3` and
`AWS_ENDPOINT_URL_LAMBDA` point it elsewhere (a moto server, LocalStack). boto3 is an optional
dependency (`lambda-zip-action[aws]`), imported only here and only when such a value is given.

This runs in this tool's own process, never in a build's: installers get an allow-listed
environment (install.installer_environment) without any AWS variable. A failure is one
paragraph built from AWS's error code and message, with every credential value this process
holds replaced, and never the presigned `Location` URL (its query is a credential).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_zip_action.errors import AwsError, ConfigError
from lambda_zip_action.escape import plain

# Downloaded at most: Lambda's ceiling is 250 MiB unzipped; anything larger is not a package.
MAX_BYTES = 256 * 1024 * 1024
CHUNK = 1024 * 1024
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60  # seconds, as CONNECT_TIMEOUT: waiting for the next bytes

_S3 = re.compile(r"s3://(?P<bucket>[^/?#]+)/(?P<key>[^?#]+)(?:\?versionId=(?P<version>[^&#]+))?")
_FUNCTION = re.compile(r"lambda:(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>[A-Za-z0-9$_-]+))?")
_FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:function:(?P<name>[A-Za-z0-9_-]{1,64})"
    r"(?::(?P<qualifier>[A-Za-z0-9$_-]+))?"
)
_LAYER_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+"
)
_FORMS = (
    "s3://BUCKET/KEY[?versionId=ID], lambda:FUNCTION[:QUALIFIER] (or the function's ARN), or "
    "a layer version's ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"
)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None = None

    def __str__(self) -> str:
        version = f"?versionId={self.version_id}" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{version}"


@dataclass(frozen=True)
class LambdaCode:
    """A function (`function`, with its qualifier) or a layer version (`layer_arn`)."""

    function: str | None = None
    qualifier: str | None = None
    layer_arn: str | None = None
    region: str | None = None  # from an ARN; else the session's

    def __str__(self) -> str:
        if self.layer_arn is not None:
            return self.layer_arn
        return f"lambda:{self.function}" + (f":{self.qualifier}" if self.qualifier else "")


Target = S3Object | LambdaCode


@dataclass(frozen=True)
class Deployed:
    """What a target holds: its sha256 (hex), and its bytes on disk when they were fetched
    (`note` says why not)."""

    target: Target
    sha256: str
    path: Path | None
    note: str | None = None
    # A function's runtime ("python3.12") and architecture, as Lambda reports them.
    runtime: str | None = None
    architecture: str | None = None


def looks_like_target(value: str) -> bool:
    """`value` is meant as an AWS location (then parse_target must understand it)."""
    return value.startswith(("s3://", "lambda:", "arn:aws"))


def parse_target(value: str) -> Target | None:
    """The AWS location `value` names; None when it does not look like one; ConfigError when
    it looks like one but is malformed."""
    if not looks_like_target(value):
        return None
    s3 = _S3.fullmatch(value)
    if s3 is not None:
        key = urllib.parse.unquote(s3["key"])
        version = urllib.parse.unquote(s3["version"]) if s3["version"] else None
        return S3Object(s3["bucket"], key, version)
    function = _FUNCTION.fullmatch(value) or _FUNCTION_ARN.fullmatch(value)
    if function is not None:
        region = function.groupdict().get("region")
        return LambdaCode(function["name"], function["qualifier"], region=region)
    layer = _LAYER_ARN.fullmatch(value)
    if layer is not None:
        return LambdaCode(layer_arn=value, region=layer["region"])
    raise ConfigError(f"{plain(value)!r} names no deployed package this tool reads: give {_FORMS}.")


def fetch(target: Target, env: Mapping[str, str], directory: Path) -> Deployed:
    """Read what `target` holds into `directory` (a file of its own): the sha256 always, the
    bytes when they can be had. AwsError when AWS refuses or cannot be reached."""
    boto3, botocore = _boto3()
    session = _session(boto3, env)
    guard = _Guard(botocore, session, env, str(target))
    directory.mkdir(parents=True, exist_ok=True)
    destination = directory / "deployed.zip"
    with guard:
        if isinstance(target, S3Object):
            client = _client(session, botocore, "s3", env, None)
            arguments = {"Bucket": target.bucket, "Key": target.key}
            if target.version_id:
                arguments["VersionId"] = target.version_id
            body = client.get_object(**arguments)["Body"]
            try:
                digest = _write(body.iter_chunks(CHUNK), destination, str(target))
            finally:
                body.close()
            return Deployed(target, digest, destination)
        client = _client(session, botocore, "lambda", env, target.region)
        runtime = architecture = None
        if target.layer_arn is not None:
            # GetLayerVersion with the layer's ARN, as GetLayerVersionByArn (which moto lacks).
            layer, _, version = target.layer_arn.rpartition(":")
            content = client.get_layer_version(LayerName=layer, VersionNumber=int(version))[
                "Content"
            ]
            sha_b64, location = content.get("CodeSha256"), content.get("Location")
        else:
            arguments = {"FunctionName": str(target.function)}
            if target.qualifier:
                arguments["Qualifier"] = target.qualifier
            response = client.get_function(**arguments)
            configuration = response.get("Configuration", {})
            if configuration.get("PackageType") == "Image":
                raise AwsError(
                    f"{target} is a container image function: it has no zip to compare with."
                )
            sha_b64 = configuration.get("CodeSha256")
            runtime = configuration.get("Runtime")
            architecture = (configuration.get("Architectures") or [None])[0]
            location = response.get("Code", {}).get("Location")
    sha256 = _hex(sha_b64, str(target))
    path, note = _download(location, destination, sha256, env)
    return Deployed(target, sha256, path, note, runtime, architecture)


def _boto3() -> tuple[Any, Any]:
    try:
        import boto3
        import botocore.exceptions
    except ImportError:
        raise ConfigError(
            "Comparing with what is deployed on AWS (s3://, lambda:, a layer's ARN) needs boto3, "
            "which is not installed: install the tool with its AWS extra, "
            "pip install 'lambda-zip-action[aws]' (the GitHub Action has it)."
        ) from None
    return boto3, botocore


def _session(boto3: Any, env: Mapping[str, str]) -> Any:
    import botocore.exceptions

    # The environment this tool was given first (the Action's, a test's), then boto3's chain.
    keys: dict[str, str | None] = {}
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        keys = {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
                "aws_session_token": env.get("AWS_SESSION_TOKEN") or None}  # fmt: skip
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    try:
        return boto3.session.Session(
            profile_name=env.get("AWS_PROFILE") or None, region_name=region, **keys
        )
    except botocore.exceptions.ProfileNotFound:
        raise AwsError(
            f"The AWS profile {plain(env.get('AWS_PROFILE', ''))!r} (AWS_PROFILE) is not in the "
            "AWS configuration files: name another profile, or unset AWS_PROFILE."
        ) from None


def _client(
    session: Any, botocore: Any, service: str, env: Mapping[str, str], region: str | None
) -> Any:
    from botocore.config import Config

    endpoint = env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"max_attempts": 3, "mode": "standard"},
        # A custom endpoint (moto, LocalStack, MinIO) rarely serves bucket host names.
        s3={"addressing_style": "path"} if endpoint else None,
    )
    try:
        return session.client(service, region_name=region, endpoint_url=endpoint or None,
                              config=config)  # fmt: skip
    except botocore.exceptions.NoRegionError:
        raise AwsError(
            "No AWS region is set, and Lambda needs one: set AWS_REGION (or a region in the "
            "profile), or give the function's ARN, which names its region."
        ) from None
    except ValueError as exc:  # an endpoint URL botocore cannot use
        raise AwsError(
            f"The AWS endpoint {plain(str(endpoint))!r} cannot be used ({plain(str(exc))}): check "
            "AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_" + service.upper() + "."
        ) from None


def _write(chunks: Iterator[bytes], destination: Path, what: str) -> str:
    digest = hashlib.sha256()
    size = 0
    with destination.open("wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_BYTES:
                raise AwsError(
                    f"{plain(what)} is over {MAX_BYTES // (1024 * 1024)} MiB: not a Lambda "
                    "package (Lambda's own ceiling is 250 MiB unzipped)."
                )
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _hex(sha_b64: object, what: str) -> str:
    try:
        raw = base64.b64decode(str(sha_b64), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise AwsError(f"Lambda reported no CodeSha256 for {plain(what)}: nothing to compare with.")
    return raw.hex()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A code location is one presigned URL: a redirect is not followed anywhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _download(
    location: object, destination: Path, sha256: str, env: Mapping[str, str]
) -> tuple[Path | None, str | None]:
    """Lambda's presigned code location into `destination` when it answers with exactly the
    bytes CodeSha256 names; else (None, why). The URL itself is never shown."""
    scheme = urllib.parse.urlsplit(location).scheme if isinstance(location, str) else ""
    if not isinstance(location, str) or scheme not in ("https", "http"):
        return None, "Lambda returned no downloadable code location"
    proxies = {
        scheme: value
        for scheme in ("http", "https")
        if (value := env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY"))
    }
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies), _NoRedirect)
    try:
        # The timeout holds for connecting and for each read.
        with opener.open(location, timeout=READ_TIMEOUT) as response:
            got = _write(_chunks(response.read), destination, "the deployed code")
    except urllib.error.HTTPError as exc:
        return None, f"its code location answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return None, f"its code location could not be reached ({plain(str(reason))})"
    except AwsError as exc:
        return None, exc.message
    if got != sha256:
        destination.unlink()
        return None, (
            "its code location served other bytes than CodeSha256 names (sha256 "
            f"{got[:12]}..., not {sha256[:12]}...): they are not used"
        )
    return destination, None


def _chunks(read: Callable[[int], bytes]) -> Iterator[bytes]:
    while chunk := read(CHUNK):
        yield chunk


def _credential_values(session: Any, env: Mapping[str, str]) -> list[str]:
    """Every credential value this process could show by mistake, longest first."""
    values = [env.get(name, "") for name in
              ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]  # fmt: skip
    try:
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            values += [frozen.access_key or "", frozen.secret_key or "", frozen.token or ""]
    except Exception:  # noqa: S110 - resolving them again failed: the env's are kept
        pass
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


class _Guard:
    """Turns every botocore failure inside it into one AwsError paragraph, scrubbed."""

    def __init__(self, botocore: Any, session: Any, env: Mapping[str, str], what: str) -> None:
        self.exceptions = botocore.exceptions
        self.session = session
        self.env = env
        self.what = plain(what)

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, AwsError) or not isinstance(exc, Exception):
            return
        message = self._message(exc)
        if message is None:
            return
        for value in _credential_values(self.session, self.env):
            message = message.replace(value, "***")
        raise AwsError(message) from None

    def _message(self, exc: Exception) -> str | None:
        errors, what = self.exceptions, self.what
        if isinstance(exc, (errors.NoCredentialsError, errors.PartialCredentialsError)):
            return (
                f"No AWS credentials to read {what}: none in the environment "
                "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the profile (AWS_PROFILE, "
                "~/.aws/credentials), web identity or an instance role. In GitHub Actions, run "
                "aws-actions/configure-aws-credentials before this step."
            )
        if isinstance(exc, errors.ClientError):
            return _client_error(exc.response, what)
        if isinstance(exc, (errors.EndpointConnectionError, errors.ConnectTimeoutError,
                            errors.ReadTimeoutError, errors.ConnectionClosedError)):  # fmt: skip
            return (
                f"AWS could not be reached to read {what} ({plain(str(exc))}): check the "
                "network, the region and AWS_ENDPOINT_URL if it is set."
            )
        if isinstance(exc, errors.ParamValidationError):
            return f"AWS refused the request for {what}: {plain(str(exc))}"
        if isinstance(exc, errors.BotoCoreError):
            return f"Reading {what} from AWS failed: {plain(str(exc))}"
        return None


_DENIED = {
    "AccessDenied", "AccessDeniedException", "Forbidden", "403", "InvalidAccessKeyId",
    "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
    "UnrecognizedClientException", "InvalidToken", "AllAccessDisabled",
}  # fmt: skip
_MISSING = {
    "NoSuchKey": "there is no such object",
    "NoSuchBucket": "there is no such bucket",
    "NoSuchVersion": "there is no such version of the object",
    "404": "there is no such object (or version)",
    "NotFound": "there is no such object (or version)",
    "ResourceNotFoundException": "there is no such function, version, alias or layer version",
}


def _client_error(response: Mapping[str, Any], what: str) -> str:
    error = response.get("Error", {}) if isinstance(response, Mapping) else {}
    code = str(error.get("Code", "")) or "unknown"
    said = plain(str(error.get("Message", "")))[:300]
    detail = f" ({plain(code)}{': ' + said if said else ''})"
    if code in _DENIED:
        return (
            f"AWS denied reading {what}{detail}: the credentials in use may not read it. "
            "Grant s3:GetObject (s3:GetObjectVersion with a versionId) on the object, "
            "lambda:GetFunction on the function, or lambda:GetLayerVersion on the layer."
        )
    if code in _MISSING:
        return f"{what}: {_MISSING[code]}{detail}. Check the name, the region and the account."
    return f"AWS refused reading {what}{detail}."
