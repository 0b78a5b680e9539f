"""Corpus case boto3: the handler imports every top-level module the set ships."""

from __future__ import annotations

import boto3
import botocore
import dateutil
import jmespath
import s3transfer
import six
import urllib3

MODULES = (
    boto3,
    botocore,
    dateutil,
    jmespath,
    s3transfer,
    six,
    urllib3,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    s3 = boto3.client(
        "s3", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    return {
        "ok": True,
        "checks": {
            "presigned": "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=" in url,
            "s3transfer": s3transfer.__version__ is not None,
            "jmespath": jmespath.search("a[0]", {"a": [3]}) == 3,
        },
    }
