#!/usr/bin/env python3
"""A Firehose transformation for localpipe's `command` runner, and a Lambda handler as is.

localpipe runs it once per invocation with Firehose's event on stdin and reads the answer
from stdout; on AWS, `lambda_handler` is the handler. Each JSON record gets a `processed`
field and a newline (so the S3 object is JSON Lines); a record that is not JSON is
ProcessingFailed, and a record whose "drop" field is true is Dropped.
"""
import base64
import json
import sys


def transform(record):
    raw = base64.b64decode(record["data"])
    try:
        doc = json.loads(raw)
    except ValueError:
        return {"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]}
    if isinstance(doc, dict) and doc.get("drop") is True:
        return {"recordId": record["recordId"], "result": "Dropped", "data": record["data"]}
    if isinstance(doc, dict):
        doc["processed"] = True
    out = (json.dumps(doc, separators=(",", ":")) + "\n").encode()
    return {"recordId": record["recordId"], "result": "Ok", "data": base64.b64encode(out).decode()}


def lambda_handler(event, context=None):
    return {"records": [transform(r) for r in event["records"]]}


if __name__ == "__main__":
    event = json.load(sys.stdin)
    print("invocation %s: %d records" % (event["invocationId"], len(event["records"])), file=sys.stderr)
    json.dump(lambda_handler(event), sys.stdout)
