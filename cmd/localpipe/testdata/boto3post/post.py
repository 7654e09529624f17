"""A browser-style upload the way Python applications hand one out: boto3's
generate_presigned_post makes the form, and requests posts it. Prints one JSON line per
upload: the HTTP status and the response body."""
import json
import sys

import boto3
import requests
from botocore.config import Config

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)
post = s3.generate_presigned_post(
    bucket,
    "uploads/${filename}",
    Fields={"Content-Type": "text/plain", "success_action_status": "201", "x-amz-meta-origin": "boto3"},
    Conditions=[
        {"Content-Type": "text/plain"},
        {"success_action_status": "201"},
        ["starts-with", "$x-amz-meta-origin", ""],
        ["content-length-range", 1, 64],
    ],
    ExpiresIn=300,
)


def upload(name, body, extra=None):
    data = dict(post["fields"])
    data.update(extra or {})
    r = requests.post(post["url"], data=data, files={"file": (name, body)})
    print(json.dumps({"status": r.status_code, "body": r.text}))


upload("hello.txt", b"hello from boto3")
upload("big.txt", b"x" * 65)
upload("extra.txt", b"x", {"x-amz-meta-unsigned": "1"})
