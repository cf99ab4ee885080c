#!/usr/bin/env python3
"""Local receivers for the alert e2e tests (127.0.0.1 only, stdlib only).

  receivers.py webhook --port-file P --out F [--fail-first N] [--status 200] [--delay S]
  receivers.py sns --port-file P --out F --secret-key K --topic-arn ARN --region R

Each request is appended to F as one JSON line. The chosen port is written to
the port file once the server listens. The SNS receiver checks the request
against the AWS API reference (Publish form fields, SigV4 Authorization) and
answers like SNS: a PublishResponse, or an ErrorResponse with HTTP 400.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def write_line(path, obj):
    with LOCK:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")
            f.flush()
            os.fsync(f.fileno())


LOCK = threading.Lock()


# ---------------------------------------------------------------- SigV4 ----
def aws_encode(s):
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_signature(secret, method, path, query, headers, signed, body, amz_date, region, service):
    """Signature per the AWS SigV4 documentation; `headers` maps lower-case names to values."""
    canon_headers = "".join(
        "%s:%s\n" % (h, " ".join(headers[h].split())) for h in signed)
    canonical = "\n".join([
        method, path or "/", query, canon_headers, ";".join(signed),
        hashlib.sha256(body).hexdigest()])
    day = amz_date[:8]
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def self_check_sigv4():
    # AWS SigV4 test suite, get-vanilla.
    sig = sigv4_signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "GET", "/", "",
                          {"host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"},
                          ["host", "x-amz-date"], b"", "20150830T123600Z", "us-east-1", "service")
    assert sig == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", sig


AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<day>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z0-9]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<sig>[0-9a-f]{64})$")


def check_sns(handler, body, args):
    """Returns a list of problems with a Publish request (empty when it conforms)."""
    problems = []
    h = {k.lower(): v for k, v in handler.headers.items()}
    if handler.command != "POST":
        problems.append("method must be POST")
    path, _, query = handler.path.partition("?")
    if path != "/":
        problems.append("path must be /")
    ctype = h.get("content-type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        problems.append("Content-Type must be application/x-www-form-urlencoded, got %r" % ctype)
    try:
        form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                     strict_parsing=True)
    except (ValueError, UnicodeDecodeError) as e:
        return problems + ["body is not a form: %s" % e]
    allowed = {"Action", "Version", "TopicArn", "Message", "Subject", "MessageStructure",
               "MessageDeduplicationId", "MessageGroupId", "TargetArn", "PhoneNumber"}
    for k, v in form.items():
        if k not in allowed and not k.startswith("MessageAttributes."):
            problems.append("unknown parameter %s" % k)
        if len(v) != 1:
            problems.append("parameter %s given %d times" % (k, len(v)))
    one = {k: v[0] for k, v in form.items()}
    if one.get("Action") != "Publish":
        problems.append("Action must be Publish")
    if one.get("Version") != "2010-03-31":
        problems.append("Version must be 2010-03-31")
    if one.get("TopicArn") != args.topic_arn:
        problems.append("TopicArn %r is not %r" % (one.get("TopicArn"), args.topic_arn))
    msg = one.get("Message", "")
    if not msg or len(msg.encode()) > 256 * 1024:
        problems.append("Message must be 1..262144 bytes")
    if "Subject" in one:
        s = one["Subject"]
        if not (1 <= len(s) <= 100) or any(ord(c) < 32 or ord(c) > 126 for c in s):
            problems.append("Subject must be 1..100 printable ASCII characters")
    amz_date = h.get("x-amz-date", "")
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        problems.append("X-Amz-Date missing or malformed")
    m = AUTH_RE.match(h.get("authorization", ""))
    if not m:
        return problems + ["Authorization header malformed: %r" % h.get("authorization")]
    if m["akid"] != args.access_key:
        problems.append("access key id %s" % m["akid"])
    if m["day"] != amz_date[:8]:
        problems.append("credential scope date differs from X-Amz-Date")
    if m["region"] != args.region or m["service"] != "sns":
        problems.append("scope must be %s/sns" % args.region)
    signed = m["signed"].split(";")
    if signed != sorted(signed) or not {"host", "x-amz-date"} <= set(signed):
        problems.append("SignedHeaders must be sorted and include host and x-amz-date")
    if args.session_token and h.get("x-amz-security-token") != args.session_token:
        problems.append("X-Amz-Security-Token missing")
    if any(s not in h for s in signed):
        return problems + ["a signed header is missing"]
    expect = sigv4_signature(args.secret_key, handler.command, path, query, h, signed, body,
                             amz_date, args.region, "sns")
    if expect != m["sig"]:
        problems.append("signature mismatch")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300:
            problems.append("X-Amz-Date more than 5 minutes off")
    except ValueError:
        pass
    return problems


# ------------------------------------------------------------- handlers ----
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        args = self.server.args
        record = {"path": self.path, "headers": dict(self.headers.items()),
                  "body": body.decode("utf-8", "replace")}
        if args.mode == "webhook":
            with LOCK:
                self.server.count += 1
                n = self.server.count
            status = 500 if n <= args.fail_first else args.status
            record["status"] = status
            write_line(args.out, record)  # it arrived, whether or not the sender sees the answer
            if args.delay > 0:
                time.sleep(args.delay)
            self.reply(status, "application/json", b'{"ok":true}' if status < 300 else b'{"ok":false}')
            return
        problems = check_sns(self, body, args)
        record["problems"] = problems
        write_line(args.out, record)
        if problems:
            xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code>"
                   "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
                   % ("; ".join(problems), uuid.uuid4()))
            self.reply(400, "text/xml", xml.encode())
            return
        xml = ('<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
               "<PublishResult><MessageId>%s</MessageId></PublishResult>"
               "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>"
               "</PublishResponse>" % (uuid.uuid4(), uuid.uuid4()))
        self.reply(200, "text/xml", xml.encode())

    def reply(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender went away (the kill -9 test)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["webhook", "sns"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
    p.add_argument("--access-key", default="AKIDAQUASENSETEST")
    p.add_argument("--secret-key", default="")
    p.add_argument("--session-token", default="")
    p.add_argument("--topic-arn", default="")
    p.add_argument("--region", default="eu-west-1")
    args = p.parse_args()
    self_check_sigv4()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.args = args
    server.count = 0
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
