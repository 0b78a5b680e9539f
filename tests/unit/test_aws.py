"""aws.py without a server: the forms compare-to reads, and what an error may never show."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_zip_action import aws
from lambda_zip_action.errors import AwsError, ConfigError


def test_the_forms_compare_to_reads() -> None:
    assert aws.parse_target("s3://bucket/dir/a%20b.zip?versionId=v1") == aws.S3Object(
        "bucket", "dir/a b.zip", "v1"
    )
    assert aws.parse_target("s3://bucket/k.zip") == aws.S3Object("bucket", "k.zip")
    assert aws.parse_target("lambda:orders:live") == aws.LambdaCode("orders", "live")
    assert aws.parse_target("lambda:orders") == aws.LambdaCode("orders")
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders:7"
    assert aws.parse_target(arn) == aws.LambdaCode("orders", "7", region="eu-west-1")
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:deps:3"
    assert aws.parse_target(layer) == aws.LambdaCode(layer_arn=layer, region="eu-west-1")
    # Hashes, ETags and paths are not AWS forms: the caller reads them as before.
    for other in ("0" * 64, "dist/lambda.zip", '"' + "a" * 32 + '"'):
        assert aws.parse_target(other) is None
    for malformed in ("s3://bucket", "s3://bucket/", "lambda:", "lambda:a/b", "arn:aws:s3:::b/k"):
        with pytest.raises(ConfigError, match="names no deployed package"):
            aws.parse_target(malformed)


def test_a_code_location_is_only_fetched_over_http(tmp_path: Path) -> None:
    secret = tmp_path / "secret.zip"
    secret.write_bytes(b"PK local file")
    for location in (f"file://{secret}", "ftp://example.invalid/x.zip", None):
        path, note = aws._download(location, tmp_path / "out.zip", "0" * 64, {})
        assert path is None and note == "Lambda returned no downloadable code location"
        assert not (tmp_path / "out.zip").exists()


def test_an_error_message_never_carries_a_credential() -> None:
    """Should AWS (or a proxy, or an endpoint) echo a credential in its message, it is
    replaced before the message is shown."""
    import boto3
    import botocore

    env = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID0001",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
        "AWS_REGION": "us-east-1",
    }
    session = aws._session(boto3, env)
    echoed = (
        f"signed with {env['AWS_ACCESS_KEY_ID']}:{env['AWS_SECRET_ACCESS_KEY']} "
        + env["AWS_SESSION_TOKEN"]
    )
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": echoed}}, "GetObject")
    with pytest.raises(AwsError) as raised, aws._Guard(botocore, session, env, "s3://b/k"):
        raise error
    message = raised.value.message
    assert "AWS denied reading s3://b/k" in message
    for value in env.values():
        if value != "us-east-1":
            assert value not in message
    assert "***" in message
