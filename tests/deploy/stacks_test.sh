#!/usr/bin/env bash
# Issue 14: the CloudFormation stacks and the Kubernetes base, checked with
# the real tools (about a minute):
#  1. cfn-lint: network, app and cluster with no error and no warning;
#     check_stacks.py on what moto skips (S3 notification and versioning,
#     PITR, the SNS subscription, Application Auto Scaling, IAM action sets,
#     cross-stack imports), and proof that those checks catch a broken copy;
#  2. moto (python3 -m moto.server): network, app, cluster created in that
#     order -> CREATE_COMPLETE each, also the cluster with LaunchType EC2 and
#     an HTTPS certificate; what moto did create is inspected;
#  3. the binary against the app stack's outputs: ingest + serve on the
#     bucket and table, the bucket's inbox/ events reaching the queue, a
#     worker + serve on bucket, table and queue (a binary without --meta or
#     `worker` fails these checks: main has both since issue 13);
#  4. `kubectl kustomize deploy/k8s` renders; kubernetes-models validates
#     every object (npm ci from tests/deploy/k8s/package-lock.json) and
#     rejects a broken one; check_stacks.py k8s;
#  5. shellcheck on deploy/ and tests/deploy scripts; yamllint on deploy/.
# Exit 0 when every check passed. AQ: the binary (default build/src/cli/aquasense).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CFN="$ROOT/deploy/cloudformation"
AQ=${AQ:-$ROOT/build/src/cli/aquasense}
WORK=$(mktemp -d)
PIDS=()
FAILS=0
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# The CLI's own AWS_ENDPOINT_URL support varies by version: name it every time.
awsm() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; FAILS=$((FAILS + 1)); }
# expect_eq NAME GOT WANT: passes when the two strings are equal.
expect_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1"; echo "      got:  $2"; echo "      want: $3"; fi
}
# expect NAME COMMAND...: passes when COMMAND exits 0.
expect() {
  local name=$1; shift
  if "$@" >"$WORK/out" 2>&1; then pass "$name"; else fail "$name"; sed 's/^/      /' "$WORK/out" | tail -20; fi
}

missing=()
for tool in cfn-lint aws kubectl node npm shellcheck yamllint curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
python3 -c 'import moto.server, yaml, cfnlint' 2>/dev/null || missing+=("python3 modules moto[server] pyyaml cfn-lint")
if ((${#missing[@]})); then
  echo "FAIL: missing ${missing[*]} (scripts/install-deps.sh; pip install cfn-lint awscli 'moto[server]')" >&2
  exit 1
fi

# moto starts while the templates are linted.
MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$WORK" && exec python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1) &
PIDS+=($!)
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_PAGER=""
unset AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_SNS
echo "== 1. templates (at ${SECONDS} s)"
# The linter and the two check runs go in parallel (each loads cfn-lint: seconds).
cfn-lint "$CFN/network.yaml" "$CFN/app.yaml" "$CFN/cluster.yaml" >"$WORK/lint" 2>&1 &
lint_pid=$!
python3 "$HERE/check_stacks.py" cfn "$CFN" >"$WORK/checks" 2>&1 &
checks_pid=$!
# The checks must catch what moto would let through: a broken copy fails them.
mkdir -p "$WORK/broken"
cp "$CFN"/*.yaml "$WORK/broken/"
sed -i -e 's/maxReceiveCount: 5/maxReceiveCount: 3/' \
  -e 's/PointInTimeRecoveryEnabled: true/PointInTimeRecoveryEnabled: false/' \
  -e 's/VersioningConfiguration: {Status: Enabled}/VersioningConfiguration: {Status: Suspended}/' \
  -e 's/- sqs:ChangeMessageVisibility/- "sqs:*"/' "$WORK/broken/app.yaml"
sed -i 's/PredefinedMetricType: ALBRequestCountPerTarget/PredefinedMetricType: ECSServiceAverageCPUUtilization/' \
  "$WORK/broken/cluster.yaml"
python3 "$HERE/check_stacks.py" cfn "$WORK/broken" >"$WORK/broken.out" 2>&1
wait "$lint_pid"
lint_rc=$?
if [[ $lint_rc -eq 0 && ! -s "$WORK/lint" ]]; then
  pass "I14 cfn-lint: network, app, cluster without error or warning"
else
  fail "I14 cfn-lint: network, app, cluster without error or warning (rc $lint_rc)"; cat "$WORK/lint"
fi
wait "$checks_pid" || FAILS=$((FAILS + 1))
cat "$WORK/checks"
caught=$(grep -c '^FAIL' "$WORK/broken.out")
for want in "redrives to the DLQ after 5" "point-in-time recovery" "bucket versioned" \
  "no wildcard action" "ALBRequestCountPerTarget"; do
  grep -q "^FAIL .*$want" "$WORK/broken.out" || caught=-1
done
if ((caught >= 5)); then
  pass "I14 checks catch a broken template (DLQ 3, no PITR, versioning off, sqs:*, CPU metric: $caught failures)"
else
  fail "I14 checks catch a broken template"; cat "$WORK/broken.out"
fi

echo "== 2. the stacks on moto (at ${SECONDS} s)"
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" && break
  sleep 0.1
done
curl -sf -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" || { cat "$WORK/moto.log"; echo "FAIL: moto did not start" >&2; exit 1; }

# create NAME TEMPLATE [ParameterKey=..,ParameterValue=..]...: waits for the end state.
create() {
  local name=$1 template=$2; shift 2
  local params=()
  (($#)) && params=(--parameters "$@")
  awsm cloudformation create-stack --stack-name "$name" --template-body "file://$template" \
    --capabilities CAPABILITY_IAM "${params[@]}" >"$WORK/create.$name" 2>&1 || { cat "$WORK/create.$name"; return 1; }
  local status=""
  for _ in $(seq 1 120); do
    status=$(awsm cloudformation describe-stacks --stack-name "$name" --query 'Stacks[0].StackStatus' --output text)
    [[ "$status" != *_IN_PROGRESS ]] && break
    sleep 0.5
  done
  echo "$name: $status"
  [[ "$status" == CREATE_COMPLETE ]] || {
    awsm cloudformation describe-stack-events --stack-name "$name" \
      --query 'StackEvents[?contains(ResourceStatus, `FAILED`)].[LogicalResourceId,ResourceStatusReason]' --output text
    return 1
  }
}
# The app stack's outputs, read once (KEY<TAB>VALUE lines).
app_outputs() {
  awsm cloudformation describe-stacks --stack-name aquasense-app \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text >"$WORK/app.outputs"
}
output() {  # output KEY
  awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$WORK/app.outputs"
}
BUCKET=aquasense-stacks-test
expect "I14 moto: network stack CREATE_COMPLETE" create aquasense-network "$CFN/network.yaml"
expect "I14 moto: app stack CREATE_COMPLETE (after network)" create aquasense-app "$CFN/app.yaml" \
  "ParameterKey=BucketName,ParameterValue=$BUCKET" "ParameterKey=AlertEmail,ParameterValue=ops@example.org"
expect "I14 moto: cluster stack CREATE_COMPLETE (after app, imports both)" \
  create aquasense-cluster "$CFN/cluster.yaml"
CERT=$(awsm acm request-certificate --domain-name aquasense.example.org --query CertificateArn --output text)
expect "I14 moto: cluster stack with LaunchType EC2 and a certificate CREATE_COMPLETE" \
  create aquasense-cluster-ec2 "$CFN/cluster.yaml" ParameterKey=LaunchType,ParameterValue=EC2 \
  "ParameterKey=CertificateArn,ParameterValue=$CERT"

app_outputs
STORE=$(output StoreUrl)
META=$(output MetaUrl)
QUEUE=$(output QueueName)
TABLE=$(output TableName)
QUEUE_ARN=$(output QueueArn)
expect_eq "I14 moto: app outputs s3://$BUCKET, dynamodb://aquasense, aquasense-inbox" \
  "$STORE|$META|$QUEUE|$TABLE" "s3://$BUCKET|dynamodb://aquasense|aquasense-inbox|aquasense-meta"
QURL=$(awsm sqs get-queue-url --queue-name "$QUEUE" --query QueueUrl --output text)
redrive=$(awsm sqs get-queue-attributes --queue-url "$QURL" --attribute-names RedrivePolicy --query Attributes.RedrivePolicy --output text)
expect "I14 moto: the queue redrives to aquasense-inbox-dlq after 5 receives" \
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["maxReceiveCount"] in (5, "5"), r; assert r["deadLetterTargetArn"].endswith(":aquasense-inbox-dlq"), r' "$redrive"
keys=$(awsm dynamodb describe-table --table-name "$TABLE" --output json | python3 -c '
import json, sys
t = json.load(sys.stdin)["Table"]
print(sorted((k["AttributeName"], k["KeyType"]) for k in t["KeySchema"]),
      sorted((a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"]),
      t["BillingModeSummary"]["BillingMode"])')
expect_eq "I14 moto: table aquasense-meta pk HASH sk RANGE, both S, on demand" \
  "$keys" "[('pk', 'HASH'), ('sk', 'RANGE')] [('pk', 'S'), ('sk', 'S')] PAY_PER_REQUEST"
# moto's CloudFormation does not pass LaunchType on (it reports EC2); the
# template's choice is checked by check_stacks.py.
services=$(awsm ecs describe-services --cluster aquasense-cluster --services serve worker \
  --query 'services[].[serviceName,desiredCount]' --output text | tr '\n\t' '  ')
expect_eq "I14 moto: ECS services serve (4 tasks) and worker (1 task)" "$services" "serve 4 worker 1 "
wenv=$(awsm ecs describe-task-definition --task-definition aquasense-cluster-worker \
  --query "taskDefinition.containerDefinitions[?name=='worker'].environment[] | [?starts_with(name, 'AQUASENSE_')].[name,value]" --output text | sort | tr '\n\t' '  ')
expect_eq "I14 moto: worker task environment names the app stack's bucket, table and queue" \
  "$wenv" "AQUASENSE_CONFIG /config/aquasense.json AQUASENSE_META dynamodb://aquasense AQUASENSE_QUEUE $(output QueueUrl) AQUASENSE_STORE s3://$BUCKET "
ports() {
  local lb
  lb=$(awsm cloudformation describe-stack-resource --stack-name "$1" --logical-resource-id LoadBalancer \
    --query StackResourceDetail.PhysicalResourceId --output text)
  awsm elbv2 describe-listeners --load-balancer-arn "$lb" --query 'Listeners[].Port' --output text | tr '\t' '\n' | sort -n | tr '\n' ' '
}
expect_eq "I14 moto: listener 80 only without a certificate, 80 + 443 with one" \
  "$(ports aquasense-cluster)|$(ports aquasense-cluster-ec2)" "80 |80 443 "

echo "== 3. the binary against the app stack's bucket, table and queue (at ${SECONDS} s)"
# moto drops the bucket's NotificationConfiguration: put the template's own
# (read from app.yaml, StorePrefix empty) as CloudFormation would on AWS.
notification=$(python3 - "$CFN/app.yaml" "$QUEUE_ARN" <<'EOF'
import json, sys
from cfnlint.decode import cfn_yaml
t = cfn_yaml.load(sys.argv[1])
out = []
for q in t["Resources"]["Bucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]:
    rules = [{"Name": r["Name"], "Value": r["Value"]["Fn::If"][2]} for r in q["Filter"]["S3Key"]["Rules"]]
    out.append({"Events": [q["Event"]], "QueueArn": sys.argv[2], "Filter": {"Key": {"FilterRules": rules}}})
print(json.dumps({"QueueConfigurations": out}))
EOF
)
awsm s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$notification"
awsm sqs purge-queue --queue-url "$QURL" >/dev/null  # the s3:TestEvent
printf 'sensor,date,temperature,sd\nst-1,2024-01-05,10.5,0.1\nst-1,2024-01-20,11.5,0.3\n' >"$WORK/st-1.csv"
printf 'date,temperature,sd\n2024-02-03,7.25,0.2\n2024-02-10,8.75,0.2\n' >"$WORK/st-2.csv"
awsm s3 cp --quiet "$WORK/st-1.csv" "s3://$BUCKET/landing-test/st-1.csv"
awsm s3 cp --quiet "$WORK/st-2.csv" "s3://$BUCKET/inbox/st-2/feb.csv"
bodies=$(awsm sqs receive-message --queue-url "$QURL" --max-number-of-messages 10 --wait-time-seconds 1 \
  --visibility-timeout 0 --query 'Messages[].Body' --output text)
expect "I14 app: an object under inbox/ raises one ObjectCreated message, one elsewhere none" \
  python3 -c 'import json,sys,urllib.parse as u; b=[json.loads(x) for x in sys.argv[1].split("\t") if x.strip()]; k=[u.unquote(r["s3"]["object"]["key"]) for m in b for r in m["Records"]]; assert k==["inbox/st-2/feb.csv"], k' "$bodies"

if [[ ! -x "$AQ" ]]; then
  fail "I14 binary: $AQ is missing (build it, or set AQ)"
else
  mkdir -p "$WORK/local"
  # start_serve ARGS...: serve on a free port; sets SERVE_PID and PORT.
  start_serve() {
    local log=$WORK/serve.$RANDOM.log
    "$AQ" "$@" serve --listen 127.0.0.1:0 2>"$log" &
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
    PORT=""
    for _ in $(seq 1 200); do
      PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" 2>/dev/null | sed 's/.*://')
      [[ -n "$PORT" ]] && break
      kill -0 "$SERVE_PID" 2>/dev/null || break
      sleep 0.05
    done
    [[ -n "$PORT" ]] || { cat "$log"; return 1; }
  }
  # --meta dynamodb:// (issue 13 §1) and `worker` are required: main has both.
  has_meta() { "$AQ" --help 2>&1 | grep -q -- '--meta'; }
  expect "I14 binary: $AQ has --meta (issue 13 §1)" has_meta
  expect "I14 binary: $AQ has the 'worker' command (issue 13)" "$AQ" worker --help
  META_ARGS=(--meta "$META")
  what="bucket + table"
  if "$AQ" --store "$STORE" "${META_ARGS[@]}" --data "$WORK/local" ingest --quiet "$WORK/st-1.csv" >"$WORK/ingest.out" 2>&1; then
    pass "I14 binary: ingest --store $STORE ${META_ARGS[*]} (the app stack's $what)"
  else
    fail "I14 binary: ingest --store $STORE ${META_ARGS[*]}"; cat "$WORK/ingest.out"
  fi
  items=$(awsm dynamodb scan --table-name "$TABLE" --select COUNT --query Count --output text)
  expect "I14 binary: the items are in the stack's table ($items)" test "${items:-0}" -ge 1
  objects=$(awsm s3api list-objects-v2 --bucket "$BUCKET" --prefix landing/ --query 'length(Contents)' --output text)
  expect "I14 binary: the landing copy is in the versioned bucket ($objects object)" test "$objects" -ge 1
  if start_serve --store "$STORE" "${META_ARGS[@]}" --data "$WORK/local"; then
    temp=$(curl -s "http://127.0.0.1:$PORT/temp?year=2024&month=1&sensor=st-1")
    expect_eq "I14 binary: serve on the $what answers /temp for st-1 January: mean 11" \
      "$temp" '{"sensor":"st-1","year":2024,"month":1,"mean_temp":11}'
    kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
  else
    fail "I14 binary: serve on the $what started"
  fi
  W="$WORK/worker"
  mkdir -p "$W"
  "$AQ" --store "$STORE" "${META_ARGS[@]}" --data "$W/data" worker --queue "$QUEUE" >"$W/log" 2>&1 &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
  got=0
  for _ in $(seq 1 150); do
    got=$("$AQ" --store "$STORE" "${META_ARGS[@]}" --data "$W/data" export --format csv 2>/dev/null | grep -c '^st-2,')
    [[ "$got" -ge 1 ]] && break
    sleep 0.2
  done
  what="bucket + queue + table"
  expect "I14 binary: the worker ingested inbox/st-2/feb.csv announced by the stack's queue ($what)" test "$got" -ge 1
  kill "$WORKER_PID" 2>/dev/null; wait "$WORKER_PID" 2>/dev/null
  [[ "$got" -ge 1 ]] || sed 's/^/      /' "$W/log" | tail -20
  if start_serve --store "$STORE" "${META_ARGS[@]}" --data "$W/data"; then
    temp=$(curl -s "http://127.0.0.1:$PORT/temp?year=2024&month=2&sensor=st-2")
    expect_eq "I14 binary: serve on $what answers /temp for st-2 February: mean 8" \
      "$temp" '{"sensor":"st-2","year":2024,"month":2,"mean_temp":8}'
    kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
  else
    fail "I14 binary: serve on $what started"
  fi
fi

echo "== 4. Kubernetes (at ${SECONDS} s)"
if kubectl kustomize "$ROOT/deploy/k8s" >"$WORK/k8s.yaml" 2>"$WORK/k8s.err"; then
  pass "I14 k8s: kubectl kustomize deploy/k8s renders ($(grep -c '^kind:' "$WORK/k8s.yaml") objects)"
else
  fail "I14 k8s: kubectl kustomize deploy/k8s renders"; cat "$WORK/k8s.err"
fi
python3 -c 'import sys, yaml, json; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], open(sys.argv[2], "w"))' \
  "$WORK/k8s.yaml" "$WORK/k8s.json"
K8S="$HERE/k8s"
if ! cmp -s "$K8S/package-lock.json" "$K8S/node_modules/.package-lock.json.ci" 2>/dev/null; then
  (cd "$K8S" && npm ci --no-audit --no-fund --loglevel=error) && cp "$K8S/package-lock.json" "$K8S/node_modules/.package-lock.json.ci"
fi
expect "I14 k8s: every rendered object validates (kubernetes-models)" node "$K8S/validate.mjs" <"$WORK/k8s.json"
python3 -c '
import json, sys
objs = json.load(open(sys.argv[1]))
d = [o for o in objs if o["kind"] == "Deployment"]
d[0]["spec"]["replicas"] = "four"
d[1]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = "yes"
json.dump(d, open(sys.argv[2], "w"))' "$WORK/k8s.json" "$WORK/k8s-broken.json"
node "$K8S/validate.mjs" <"$WORK/k8s-broken.json" >"$WORK/k8s-broken.out" 2>&1
expect "I14 k8s: the validator rejects replicas \"four\" and runAsNonRoot \"yes\"" \
  test "$(grep -c '^INVALID' "$WORK/k8s-broken.out")" -eq 2
python3 "$HERE/check_stacks.py" k8s "$WORK/k8s.json" || FAILS=$((FAILS + 1))
# The overlay docs/deploy.md shows (its yaml block, as written) renders with
# the image and the URLs it sets.
mkdir -p "$WORK/ov/overlays/prod"
ln -s "$ROOT/deploy" "$WORK/ov/deploy"
python3 - "$ROOT/docs/deploy.md" "$WORK/ov/overlays/prod/kustomization.yaml" <<'EOF2'
import re, sys, textwrap
doc = open(sys.argv[1]).read()
block = re.search(r"\n( *)```yaml\n(.*?)\n *```", doc[doc.index("## Kubernetes"):], re.S)
open(sys.argv[2], "w").write(textwrap.dedent(block.group(2)) + "\n")
EOF2
rendered=$(kubectl kustomize "$WORK/ov/overlays/prod" 2>&1 | grep -E '^ +(image|AQUASENSE_STORE|namespace):' | sed 's/^ *//' | sort -u | tr -s ' \n' ' ')
expect_eq "I14 docs: the documented overlay renders with its image, store and namespace" "$rendered" \
  "AQUASENSE_STORE: s3://my-bucket image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/aquasense:1a2b3c4 namespace: aquasense "

echo "== 5. linters (at ${SECONDS} s)"
mapfile -t scripts < <(find "$ROOT/deploy" "$ROOT/tests/deploy" -name '*.sh' -not -path '*/node_modules/*' | sort)
expect "I14 shellcheck: ${#scripts[@]} scripts under deploy/ and tests/deploy/" shellcheck -S warning "${scripts[@]}"
expect "I14 yamllint: deploy/ (.yamllint)" yamllint -s -c "$ROOT/.yamllint" "$ROOT/deploy"

if ((FAILS)); then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "all checks passed"
