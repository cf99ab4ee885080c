#!/usr/bin/env python3
"""Prints {"pk|sk": size_in_bytes, ...} for every item of a DynamoDB table,
the size computed as DynamoDB bills it (attribute names + values; numbers
about 1 byte per 2 significant digits + 1). bench/aws/cost.py diffs two of
these to count the write request units a commit really costs."""
import hashlib
import json
import sys

import boto3


def value_size(v):
    (t, x), = v.items()
    if t == "S":
        return len(x.encode())
    if t == "B":
        return len(x)
    if t == "N":
        digits = x.lstrip("-").replace(".", "").lstrip("0").split("e")[0].split("E")[0]
        return (len(digits) + 1) // 2 + 1
    if t in ("BOOL", "NULL"):
        return 1
    if t == "L":
        return 3 + sum(1 + value_size(e) for e in x)
    if t == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(e) for k, e in x.items())
    return len(json.dumps(x))


def main():
    db = boto3.client("dynamodb")
    out, kw = {}, {"TableName": sys.argv[1]}
    while True:
        r = db.scan(**kw)
        for item in r["Items"]:
            size = sum(len(k.encode()) + value_size(v) for k, v in item.items())
            digest = hashlib.sha1(repr(sorted(item.items())).encode()).hexdigest()
            out[item["pk"]["S"] + "|" + item["sk"]["S"]] = [size, digest]
        if "LastEvaluatedKey" not in r:
            break
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    json.dump(out, sys.stdout)


main()
