#!/usr/bin/env python3
"""A tiny HTTP server for the aws_test: ECS and EC2 metadata credentials,
and the behaviours http_client_test.cc needs. Port: the last argument.

  PUT  /latest/api/token                          IMDSv2 token (needs the TTL header)
  GET  /latest/meta-data/iam/security-credentials/[ROLE]   (needs the token)
  GET  /ecs/creds                                 (needs Authorization: ecs-token)
  GET  /echo, PUT /echo, POST /echo, DELETE /echo JSON: method, headers, body
  GET  /range                                     "0123456789" honouring Range
  GET  /status/CODE?code=AWSCODE                  that status, an AWS error body
  GET  /flaky/N/ID                                503 N times per ID, then 200
  GET  /slow                                      answers after 3 s
  GET  /port                                      the client's port (keep-alive check)
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
EXPIRATION = "2030-01-01T00:10:00Z"


def creds(prefix):
    counts[prefix] = counts.get(prefix, 0) + 1
    return json.dumps({"Code": "Success", "AccessKeyId": f"{prefix}{counts[prefix]}",
                       "SecretAccessKey": "secret", "Token": f"token-{prefix}",
                       "Expiration": EXPIRATION})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/json", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_PUT(self):
        if self.path == "/latest/api/token":
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing ttl")
            return self.reply(200, "TOKEN123", "text/plain")
        return self.do_GET()

    def do_POST(self):
        return self.do_GET()

    def do_DELETE(self):
        return self.do_GET()

    def do_HEAD(self):
        return self.do_GET()

    def do_GET(self):
        p = self.path
        if p.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != "TOKEN123":
                return self.reply(401, "no token")
            role = p[len("/latest/meta-data/iam/security-credentials/"):]
            return self.reply(200, "my-role\n", "text/plain") if not role else self.reply(200, creds("IMDS"))
        if p == "/ecs/creds":
            if self.headers.get("Authorization") != "ecs-token":
                return self.reply(403, "bad token")
            return self.reply(200, creds("ECS"))
        if p == "/echo":
            b = self.body()
            return self.reply(200, json.dumps({"method": self.command, "headers": dict(self.headers),
                                               "body": b.decode("latin-1")}))
        if p == "/range":
            data = b"0123456789"
            r = self.headers.get("Range")
            if r:
                a, b = r[len("bytes="):].split("-")
                part = data[int(a):int(b) + 1]
                return self.reply(206, part, "application/octet-stream",
                                  [("Content-Range", f"bytes {a}-{int(a) + len(part) - 1}/{len(data)}")])
            return self.reply(200, data, "application/octet-stream")
        if p.startswith("/status/"):
            code, _, q = p[len("/status/"):].partition("?code=")
            return self.reply(int(code), f"<Error><Code>{q}</Code><Message>m</Message></Error>",
                              "application/xml")
        if p.startswith("/flaky/"):
            _, _, n, key = p.split("/")
            counts[key] = counts.get(key, 0) + 1
            if counts[key] <= int(n):
                return self.reply(503, "<Error><Code>SlowDown</Code></Error>", "application/xml")
            return self.reply(200, f"ok after {counts[key]}", "text/plain")
        if p == "/slow":
            time.sleep(3)
            return self.reply(200, "late", "text/plain")
        if p == "/port":
            return self.reply(200, str(self.client_address[1]), "text/plain")
        return self.reply(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml")


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[-1])), Handler).serve_forever()
