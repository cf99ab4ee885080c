#!/usr/bin/env python3
"""A scripted DynamoDB endpoint for dynamodb_client_test.cc: what moto does
not do (throttling, unprocessed items, cancelled transactions). Port: the
last argument. Every request is recorded; GET /log returns them as JSON.

The TableName of a request picks the behaviour:
  throttle-N   ProvisionedThroughputExceededException N times, then {}
  server-N     HTTP 500 N times, then {}
  unprocessed  BatchWriteItem: the last item of every request is left
               unprocessed once (per item), then all done
  cancel-cond  TransactionCanceledException, reason ConditionalCheckFailed
  cancel-conf  TransactionCanceledException, reason TransactionConflict
  cond         ConditionalCheckFailedException
  missing      ResourceNotFoundException
anything else: {} (200).
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = []
counts = {}
seen_unprocessed = set()


def error(code, typ, msg="", extra=None):
    body = {"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": msg}
    body.update(extra or {})
    return code, body


def answer(target, req):
    table = req.get("TableName", "")
    if not table and "RequestItems" in req:
        table = next(iter(req["RequestItems"]))
    if not table and "TransactItems" in req:
        first = req["TransactItems"][0]
        table = next(iter(first.values()))["TableName"]
    for kind, typ, status in (("throttle-", "ProvisionedThroughputExceededException", 400),
                              ("server-", "InternalServerError", 500)):
        if table.startswith(kind):
            n = int(table[len(kind):])
            counts[table] = counts.get(table, 0) + 1
            if counts[table] <= n:
                return error(status, typ, "scripted")
            return 200, {}
    if table == "unprocessed" and target == "BatchWriteItem":
        items = req["RequestItems"][table]
        last = json.dumps(items[-1], sort_keys=True)
        if last not in seen_unprocessed:
            seen_unprocessed.add(last)
            return 200, {"UnprocessedItems": {table: [items[-1]]}}
        return 200, {"UnprocessedItems": {}}
    if table == "cancel-cond":
        return error(400, "TransactionCanceledException", "Transaction cancelled",
                     {"CancellationReasons": [{"Code": "None"},
                                              {"Code": "ConditionalCheckFailed"}]})
    if table == "cancel-conf":
        return error(400, "TransactionCanceledException", "Transaction cancelled",
                     {"CancellationReasons": [{"Code": "TransactionConflict"}]})
    if table == "cond":
        return error(400, "ConditionalCheckFailedException", "The conditional request failed")
    if table == "missing":
        return error(400, "ResourceNotFoundException", "Requested resource not found")
    return 200, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, log)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        req = json.loads(self.rfile.read(n) or b"{}")
        target = self.headers.get("X-Amz-Target", "").split(".")[-1]
        log.append({"target": self.headers.get("X-Amz-Target"),
                    "content_type": self.headers.get("Content-Type"),
                    "signed": "Authorization" in self.headers, "body": req})
        code, body = answer(target, req)
        self.reply(code, body)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[-1])), Handler).serve_forever()
