#!/usr/bin/env python3
"""Signs requests with botocore, for sigv4_test.cc: an independent SigV4.

stdin: a JSON list of {method, url, headers: [[k, v]], params: [[k, v]],
body, service, region, key, secret, token, timestamp, unsigned_payload};
stdout: a JSON list of {authorization, canonical_request}, one per request.
botocore's add_auth() reads the clock itself, so its steps are run here with
the given timestamp instead.
"""
import json
import sys

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def sign(r):
    creds = Credentials(r["key"], r["secret"], r.get("token") or None)
    cls = S3SigV4Auth if r["service"] == "s3" else SigV4Auth
    auth = cls(creds, r["service"], r["region"])
    req = AWSRequest(method=r["method"], url=r["url"], headers=dict(r["headers"]),
                     data=r["body"].encode("utf-8"))
    if r["params"]:
        req.params = [tuple(p) for p in r["params"]]
    req.context["timestamp"] = r["timestamp"]
    if r.get("unsigned_payload"):
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        req.context["payload_signing_enabled"] = False
    auth._modify_request_before_signing(req)
    canonical = auth.canonical_request(req)
    signature = auth.signature(auth.string_to_sign(req, canonical), req)
    auth._inject_signature_to_request(req, signature)
    return {"authorization": req.headers["Authorization"], "canonical_request": canonical}


print(json.dumps([sign(r) for r in json.load(sys.stdin)]))
