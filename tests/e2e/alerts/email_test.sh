#!/usr/bin/env bash
# Email channel against real SMTP servers (Debian's aiosmtpd): recipients,
# subject and body; a second server with STARTTLS and a login, a third with
# implicit TLS (smtps://) (issue 4, item 1).
source "$(dirname "$0")/lib.sh"

# start_smtp NAME [extra args]: sets NAME_PORT.
start_smtp() {
  local name=$1; shift
  $PY "$HERE/smtp_receiver.py" --port-file "$WORK/$name.port" --out "$WORK/$name.jsonl" "$@" \
    2> "$WORK/$name.err" &
  PIDS+=($!)
  wait_file "$WORK/$name.port"
  printf -v "${name}_PORT" '%s' "$(cat "$WORK/$name.port")"
}

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2> /dev/null
start_smtp plain
start_smtp secure --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --auth alice:pw
start_smtp smtps --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --implicit-tls

cat > "$WORK/config.json" <<JSON
{"alerts": {"log": false, "channels": [
  {"name": "mail", "type": "email", "url": "smtp://127.0.0.1:$plain_PORT",
   "from": "AquaSense <alerts@example.org>", "to": ["ops@example.org", "lab@example.org"]},
  {"name": "mail-tls", "type": "email", "url": "smtp://127.0.0.1:$secure_PORT", "tls": "starttls",
   "ca_file": "$WORK/cert.pem", "username": "alice", "password_env": "AQ_TEST_SMTP_PASSWORD",
   "from": "alerts@example.org", "to": "quality@example.org", "kinds": ["data_quality"]},
  {"name": "mail-smtps", "type": "email", "url": "smtps://127.0.0.1:$smtps_PORT",
   "ca_file": "$WORK/cert.pem", "from": "alerts@example.org", "to": ["s2@example.org"],
   "sensors": ["s2"]}]}}
JSON
export AQ_TEST_SMTP_PASSWORD=pw
readings "$WORK/readings.csv" 1
aq ingest --quiet "$WORK/readings.csv" > /dev/null
aq alerts deliver --until-empty --max-seconds 20 > "$WORK/deliver.txt"
aq alerts --json > "$WORK/alerts.json"

$PY - "$WORK" <<'PY'
import email, email.policy, json, sys
work = sys.argv[1]
plain = [json.loads(l) for l in open(f"{work}/plain.jsonl")]
secure = [json.loads(l) for l in open(f"{work}/secure.jsonl")]
assert len(plain) == 2, f"{len(plain)} messages on the plain server"  # one per kind (M7)
assert len(secure) == 1, f"{len(secure)} messages on the STARTTLS server"
smtps = [json.loads(l) for l in open(f"{work}/smtps.jsonl")]
# Both alerts name s2 among their sensors.
assert len(smtps) == 2, f"{len(smtps)} messages on the implicit-TLS server"
assert smtps[0]["rcpt_tos"] == ["s2@example.org"], smtps[0]
assert any("Subject: [AquaSense] deviation: 2 sensors (s1, s2)," in m["data"] for m in smtps), smtps

subjects = {}
for m in plain:
    assert m["mail_from"] == "alerts@example.org", m["mail_from"]
    assert m["rcpt_tos"] == ["ops@example.org", "lab@example.org"], m["rcpt_tos"]
    assert not m["tls"]
    msg = email.message_from_string(m["data"], policy=email.policy.default)
    assert msg["From"] == "AquaSense <alerts@example.org>", msg["From"]
    assert msg["To"] == "ops@example.org, lab@example.org", msg["To"]
    assert msg["Date"] and msg["Message-ID"].startswith("<aquasense-"), dict(msg)
    assert msg.get_content_type() == "text/plain"
    subjects[msg["Subject"]] = msg.get_content()

want = {
    "[AquaSense] deviation: 2 sensors (s1, s2), 2 readings with sd > 0.5 in readings.csv",
    "[AquaSense] data quality: 2 of 6 rows invalid in readings.csv (bad_date 1, bad_number 1)"
    " for 2 sensors (s1, s2)",
}
assert set(subjects) == want, sorted(subjects)
body = subjects["[AquaSense] deviation: 2 sensors (s1, s2), 2 readings with sd > 0.5 in readings.csv"]
for text in ("Sensors: 2 sensors (s1, s2)", "readings_above_limit: 2", "sensors: 2",
             "First examples:", "- line 3: date=2024-01-02 sd=0.7 sensor=s1 temperature=13.1",
             "- line 4: date=2024-01-02 sd=0.8 sensor=s2 temperature=14"):
    assert text in body, (text, body)
dq = [b for s, b in subjects.items() if "data quality" in s][0]
for text in ("invalid: 2", "rows: 6", "bad_date: 1", "bad_number: 1",
             "- line 6: detail=", "reason=bad_date", "- line 7: detail="):
    assert text in dq, (text, dq)

m = secure[0]
assert m["tls"] and m["authenticated"], m
assert m["rcpt_tos"] == ["quality@example.org"], m
msg = email.message_from_string(m["data"], policy=email.policy.default)
assert msg["Subject"].startswith("[AquaSense] data quality:"), msg["Subject"]

alerts = json.load(open(f"{work}/alerts.json"))["alerts"]
for a in alerts:
    st = {d["channel"]: d["state"] for d in a["deliveries"]}
    assert st["mail"] == "delivered", st
    assert st["mail-tls"] == ("delivered" if a["kind"] == "data_quality" else "skipped"), st
    assert st["mail-smtps"] == "delivered", st
print("email: recipients, subjects, bodies, STARTTLS with login, implicit TLS ok")
PY
