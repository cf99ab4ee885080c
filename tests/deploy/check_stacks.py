#!/usr/bin/env python3
"""Assertions on the deploy/ templates for what moto's CloudFormation skips.

moto creates the stacks but silently ignores AWS::SNS::Subscription and
AWS::ApplicationAutoScaling::*, and drops the bucket's notification and
versioning properties; cfn-lint checks types, not intent. This reads the
templates with cfn-lint's own loader (the intrinsic functions as dicts) and
asserts on what issue 14 asks of them, value by value.

  check_stacks.py cfn DIR          # deploy/cloudformation
  check_stacks.py k8s RENDERED.json  # `kubectl kustomize deploy/k8s` as a JSON list

Prints one line per check; exit 1 when any fails.
"""
import json
import sys

from cfnlint.decode import cfn_yaml

FAILS = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f"  [{detail}]"))
    if not ok:
        FAILS.append(name)


def get_att(value):
    """'X.Arn' or ['X', 'Arn'] of a Fn::GetAtt, as a tuple; None otherwise."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        return tuple(att.split(".", 1)) if isinstance(att, str) else tuple(att)
    return None


def imports_in(node, out):
    """Every Fn::ImportValue name (the text after the stack-name parameter)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Fn::ImportValue":
                sub = v.get("Fn::Sub") if isinstance(v, dict) else v
                out.append(sub)
            imports_in(v, out)
    elif isinstance(node, list):
        for v in node:
            imports_in(v, out)
    return out


def exports_of(template):
    names = set()
    for out in template.get("Outputs", {}).values():
        name = out.get("Export", {}).get("Name", {})
        if isinstance(name, dict) and "Fn::Sub" in name:
            names.add(name["Fn::Sub"].replace("${AWS::StackName}-", ""))
    return names


def policy_statements(resource):
    props = resource["Properties"]
    docs = []
    if "PolicyDocument" in props:
        docs.append(props["PolicyDocument"])
    for p in props.get("Policies", []) or []:
        docs.append(p["PolicyDocument"])
    return [s for d in docs for s in d["Statement"]]


def actions_of(statements):
    acts = set()
    for s in statements:
        a = s["Action"]
        acts.update([a] if isinstance(a, str) else a)
    return acts


def role_actions(app, role):
    res = app["Resources"]
    stmts = policy_statements(res[role])
    for arn in res[role]["Properties"].get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            stmts += policy_statements(res[arn["Ref"]])
    return stmts


DATA_ACTIONS = {
    "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
    "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "sns:Publish",
}
QUEUE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                 "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def check_bucket(app):
    res, params = app["Resources"], app["Parameters"]
    b = res["Bucket"]["Properties"]
    check("I14 app: bucket versioned", b.get("VersioningConfiguration") == {"Status": "Enabled"},
          b.get("VersioningConfiguration"))
    sse = b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    check("I14 app: bucket SSE encrypted",
          sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), sse)
    pab = b["PublicAccessBlockConfiguration"]
    check("I14 app: bucket public access blocked (all four)",
          all(pab.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy",
                                             "IgnorePublicAcls", "RestrictPublicBuckets")), pab)
    abort = [r for r in b["LifecycleConfiguration"]["Rules"] if "AbortIncompleteMultipartUpload" in r]
    check("I14 app: lifecycle aborts incomplete multipart uploads after N days",
          len(abort) == 1 and abort[0]["Status"] == "Enabled"
          and abort[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
          == {"Ref": "AbortIncompleteUploadDays"}
          and params["AbortIncompleteUploadDays"]["Default"] == 7, abort)
    qc = b["NotificationConfiguration"]["QueueConfigurations"]
    prefix = qc[0]["Filter"]["S3Key"]["Rules"][0] if len(qc) == 1 else {}
    check("I14 app: ObjectCreated under inbox/ goes to the inbox queue",
          len(qc) == 1 and qc[0]["Event"] == "s3:ObjectCreated:*"
          and get_att(qc[0]["Queue"]) == ("InboxQueue", "Arn")
          and prefix.get("Name") == "prefix"
          and prefix.get("Value") == {"Fn::If": ["HasPrefix", {"Fn::Sub": "${StorePrefix}/inbox/"},
                                                 "inbox/"]}, qc)
    deps = res["Bucket"].get("DependsOn")
    check("I14 app: bucket created after the queue policy (S3 tests the target)",
          deps in ("InboxQueuePolicy", ["InboxQueuePolicy"]), deps)
    stmt = res["InboxQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    s3_send = [s for s in stmt if s["Effect"] == "Allow" and s["Action"] == "sqs:SendMessage"
               and s["Principal"] == {"Service": "s3.amazonaws.com"}]
    check("I14 app: queue policy lets this bucket's S3 events in",
          len(s3_send) == 1 and get_att(s3_send[0]["Resource"]) == ("InboxQueue", "Arn")
          and s3_send[0]["Condition"]["ArnLike"]["aws:SourceArn"]
          == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}"}
          and res["InboxQueuePolicy"]["Properties"]["Queues"] == [{"Ref": "InboxQueue"}], stmt)
    check("I14 app: bucket and table retained on stack deletion",
          all(res[r].get("DeletionPolicy") == "Retain" for r in ("Bucket", "MetaTable")))


def check_queue_table_topic(app):
    res, params = app["Resources"], app["Parameters"]
    q = res["InboxQueue"]["Properties"]
    rp = q["RedrivePolicy"]
    check("I14 app: inbox queue redrives to the DLQ after 5 receives",
          rp["maxReceiveCount"] == 5 and get_att(rp["deadLetterTargetArn"]) == ("DeadLetterQueue", "Arn"), rp)
    check("I14 app: DLQ named <queue>-dlq",
          res["DeadLetterQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "${QueueName}-dlq"})
    tables = [r for r in res.values() if r["Type"] == "AWS::DynamoDB::Table"]
    t = res["MetaTable"]["Properties"]
    check("I14 app: ONE DynamoDB table, named <prefix>-meta",
          len(tables) == 1 and t["TableName"] == {"Fn::Sub": "${TablePrefix}-meta"}, len(tables))
    keys = {(k["AttributeName"], k["KeyType"]) for k in t["KeySchema"]}
    types = {(a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"]}
    check("I14 app: table keys pk (S, HASH) + sk (S, RANGE)",
          keys == {("pk", "HASH"), ("sk", "RANGE")} and types == {("pk", "S"), ("sk", "S")},
          (keys, types))
    check("I14 app: table on demand", t["BillingMode"] == "PAY_PER_REQUEST")
    check("I14 app: table point-in-time recovery",
          t["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True})
    check("I14 app: table TTL on expires_at (the change log)",
          t.get("TimeToLiveSpecification") == {"AttributeName": "expires_at", "Enabled": True})
    check("I14 app: SNS topic SD_LIMIT",
          res["AlertTopic"]["Properties"]["TopicName"] == {"Ref": "TopicName"}
          and params["TopicName"]["Default"] == "SD_LIMIT")
    sub = res["AlertEmailSubscription"]
    check("I14 app: e-mail subscription from the AlertEmail parameter, only when given",
          sub["Type"] == "AWS::SNS::Subscription" and sub.get("Condition") == "HasAlertEmail"
          and sub["Properties"] == {"TopicArn": {"Ref": "AlertTopic"}, "Protocol": "email",
                                    "Endpoint": {"Ref": "AlertEmail"}}
          and app["Conditions"]["HasAlertEmail"]
          == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}, sub)


def check_roles(app):
    serve = role_actions(app, "ServeTaskRole")
    worker = role_actions(app, "WorkerTaskRole")
    check("I14 app: serve role has exactly the data actions",
          actions_of(serve) == DATA_ACTIONS, actions_of(serve) ^ DATA_ACTIONS)
    check("I14 app: worker role has exactly the data + queue actions",
          actions_of(worker) == DATA_ACTIONS | QUEUE_ACTIONS,
          actions_of(worker) ^ (DATA_ACTIONS | QUEUE_ACTIONS))
    wild = [s for s in serve + worker
            if "*" in json.dumps(s["Action"]) or s["Resource"] in ("*", ["*"])]
    check("I14 app: no wildcard action or resource in the task roles", not wild, wild)
    by_sid = {s["Sid"]: s for s in serve}
    check("I14 app: objects only under the store prefix of this bucket",
          by_sid["ObjectsOfTheStore"]["Resource"]
          == {"Fn::If": ["HasPrefix", {"Fn::Sub": "${Bucket.Arn}/${StorePrefix}/*"},
                         {"Fn::Sub": "${Bucket.Arn}/*"}]})
    check("I14 app: items only of the one table, publish only to the topic",
          get_att(by_sid["ItemsOfTheTable"]["Resource"]) == ("MetaTable", "Arn")
          and by_sid["PublishAlerts"]["Resource"] == {"Ref": "AlertTopic"})
    sqs = [s for s in worker if any(a.startswith("sqs:") for a in actions_of([s]))]
    check("I14 app: queue actions only on the inbox queue and its DLQ",
          len(sqs) == 1 and sorted(get_att(r) for r in sqs[0]["Resource"])
          == [("DeadLetterQueue", "Arn"), ("InboxQueue", "Arn")], sqs)
    for role in ("ServeTaskRole", "WorkerTaskRole"):
        trust = app["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        check(f"I14 app: {role} assumable by ECS tasks only",
              [s["Principal"] for s in trust] == [{"Service": "ecs-tasks.amazonaws.com"}], trust)


def check_cluster_scaling(cl):
    res, params = cl["Resources"], cl["Parameters"]
    st = res["ServeScalableTarget"]["Properties"]
    check("I14 cluster: serve scales 4-6 tasks",
          st["MinCapacity"] == {"Ref": "ServeMinTasks"} and st["MaxCapacity"] == {"Ref": "ServeMaxTasks"}
          and params["ServeMinTasks"]["Default"] == 4 and params["ServeMaxTasks"]["Default"] == 6
          and st["ResourceId"] == {"Fn::Sub": "service/${Cluster}/${ServeService.Name}"}, st)
    sp = res["ServeRequestsPolicy"]["Properties"]
    tt = sp["TargetTrackingScalingPolicyConfiguration"]
    check("I14 cluster: serve tracks ALBRequestCountPerTarget of its target group",
          sp["PolicyType"] == "TargetTrackingScaling"
          and sp["ScalingTargetId"] == {"Ref": "ServeScalableTarget"}
          and tt["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ALBRequestCountPerTarget"
          and tt["PredefinedMetricSpecification"]["ResourceLabel"]
          == {"Fn::Sub": "${LoadBalancer.LoadBalancerFullName}/${ServeTargetGroup.TargetGroupFullName}"},
          sp)
    wt = res["WorkerScalableTarget"]["Properties"]
    check("I14 cluster: worker scalable target on the worker service",
          wt["ResourceId"] == {"Fn::Sub": "service/${Cluster}/${WorkerService.Name}"})
    for alarm, policy, op in (("QueueDeepAlarm", "WorkerScaleOutPolicy", "GreaterThanOrEqualToThreshold"),
                              ("QueueEmptyAlarm", "WorkerScaleInPolicy", "LessThanOrEqualToThreshold")):
        a = res[alarm]["Properties"]
        p = res[policy]["Properties"]
        steps = p["StepScalingPolicyConfiguration"]["StepAdjustments"]
        direction = all((s["ScalingAdjustment"] > 0) == (op.startswith("Greater")) for s in steps)
        check(f"I14 cluster: {alarm} on the inbox queue depth drives {policy}",
              a["Namespace"] == "AWS/SQS" and a["MetricName"] == "ApproximateNumberOfMessagesVisible"
              and a["Dimensions"] == [{"Name": "QueueName", "Value":
                                       {"Fn::ImportValue": {"Fn::Sub": "${AppStack}-QueueName"}}}]
              and a["ComparisonOperator"] == op and a["AlarmActions"] == [{"Ref": policy}]
              and p["PolicyType"] == "StepScaling" and p["ScalingTargetId"] == {"Ref": "WorkerScalableTarget"}
              and direction, (a, p))


def check_cluster_tasks(cl):
    res, params = cl["Resources"], cl["Parameters"]
    tg = res["ServeTargetGroup"]["Properties"]
    check("I14 cluster: target group health check GET /health -> 200",
          tg["HealthCheckPath"] == "/health" and tg["Matcher"] == {"HttpCode": "200"}
          and tg["Port"] == 8080 and tg["TargetType"] == "ip", tg)
    check("I14 cluster: listener on 80", res["HttpListener"]["Properties"]["Port"] == 80)
    https = res["HttpsListener"]
    check("I14 cluster: 443 listener only when CertificateArn is non-empty",
          https.get("Condition") == "HasCertificate" and https["Properties"]["Port"] == 443
          and https["Properties"]["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
          and cl["Conditions"]["HasCertificate"]
          == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]}, https)
    lb = res["LoadBalancer"]["Properties"]
    check("I14 cluster: ALB internet-facing across the public subnets",
          lb["Scheme"] == "internet-facing" and lb["Subnets"]
          == {"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${NetworkStack}-PublicSubnets"}}]})
    want_env = {"serve": {"AQUASENSE_STORE": "StoreUrl", "AQUASENSE_META": "MetaUrl"},
                "worker": {"AQUASENSE_STORE": "StoreUrl", "AQUASENSE_META": "MetaUrl",
                           "AQUASENSE_QUEUE": "QueueUrl"}}
    for name, task in (("serve", "ServeTask"), ("worker", "WorkerTask")):
        cds = {c["Name"]: c for c in res[task]["Properties"]["ContainerDefinitions"]}
        c = cds[name]
        env = {e["Name"]: e["Value"] for e in c["Environment"]}
        got = {k: env.get(k) for k in want_env[name]}
        want = {k: {"Fn::ImportValue": {"Fn::Sub": "${AppStack}-" + v}} for k, v in want_env[name].items()}
        check(f"I14 cluster: {name} task gets the app stack's URLs in its environment", got == want, got)
        logs = [d["LogConfiguration"] for d in cds.values()]
        check(f"I14 cluster: every {name} task container logs to CloudWatch (awslogs)",
              all(l["LogDriver"] == "awslogs" and "awslogs-group" in l["Options"] for l in logs), logs)
        check(f"I14 cluster: {name} container runs `{name}` read-only, non-root",
              c["Command"] == [name] and c["ReadonlyRootFilesystem"] is True and c["User"] != "0"
              and c["Image"] == {"Ref": "Image"})
        role = res[task]["Properties"]["TaskRoleArn"]
        check(f"I14 cluster: {name} task uses the app stack's {name} role",
              role == {"Fn::ImportValue": {"Fn::Sub": "${AppStack}-" + name.capitalize() + "TaskRoleArn"}})
        svc = res[name.capitalize() + "Service"]["Properties"]
        check(f"I14 cluster: {name} service in the private subnets, no public IP",
              svc["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
              == {"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${NetworkStack}-PrivateSubnets"}}]}
              and svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED")
        check(f"I14 cluster: {name} service Fargate by default, the EC2 capacity provider otherwise",
              svc["LaunchType"] == {"Fn::If": ["UseFargate", "FARGATE", {"Ref": "AWS::NoValue"}]}
              and svc["CapacityProviderStrategy"]["Fn::If"][0] == "UseEc2")
    check("I14 cluster: LaunchType FARGATE by default, EC2 allowed",
          params["LaunchType"]["Default"] == "FARGATE"
          and set(params["LaunchType"]["AllowedValues"]) == {"FARGATE", "EC2"})
    ec2 = ("InstanceRole", "InstanceProfile", "InstanceSecurityGroup", "LaunchTemplate",
           "AutoScalingGroup", "CapacityProvider", "CapacityProviderAssociation")
    check("I14 cluster: the EC2 auto-scaling group and capacity provider exist only with EC2",
          all(res[r].get("Condition") == "UseEc2" for r in ec2))
    check("I14 cluster: ECS-optimized AMI from AWS's SSM parameter",
          params["EcsAmi"]["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
          and params["EcsAmi"]["Default"].startswith("/aws/service/ecs/optimized-ami/")
          and res["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["ImageId"] == {"Ref": "EcsAmi"})
    asg = res["AutoScalingGroup"]["Properties"]
    check("I14 cluster: the original's 4-6 instances by default",
          params["InstanceMin"]["Default"] == 4 and params["InstanceMax"]["Default"] == 6
          and asg["MinSize"] == {"Ref": "InstanceMin"} and asg["MaxSize"] == {"Ref": "InstanceMax"})


def check_cross_stack(net, app, cl):
    wanted = imports_in(cl, [])
    have = {"${NetworkStack}-" + e for e in exports_of(net)} | {"${AppStack}-" + e for e in exports_of(app)}
    missing = sorted(set(wanted) - have)
    check("I14 cluster: every ImportValue names an export of network or app", not missing and wanted, missing)
    net_needed = {"VpcId", "VpcCidr", "PublicSubnets", "PrivateSubnets", "PrivateRouteTable", "NatPublicIp"}
    check("I14 network: its exports kept", net_needed <= exports_of(net), net_needed - exports_of(net))
    app_needed = {"BucketName", "StoreUrl", "TablePrefix", "TableName", "MetaUrl", "QueueUrl", "QueueName",
                  "QueueArn", "DeadLetterQueueUrl", "TopicArn", "ServeTaskRoleArn", "WorkerTaskRoleArn"}
    check("I14 app: outputs exported (bucket, table, queue, topic, roles)",
          app_needed <= exports_of(app), app_needed - exports_of(app))


def run_cfn(directory):
    net = cfn_yaml.load(f"{directory}/network.yaml")
    app = cfn_yaml.load(f"{directory}/app.yaml")
    cl = cfn_yaml.load(f"{directory}/cluster.yaml")
    check_bucket(app)
    check_queue_table_topic(app)
    check_roles(app)
    check_cluster_scaling(cl)
    check_cluster_tasks(cl)
    check_cross_stack(net, app, cl)


def run_k8s(path):
    with open(path) as f:
        objs = json.load(f)
    by = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    deps = {n: by[("Deployment", "aquasense-" + n)] for n in ("serve", "worker")}
    for name, d in deps.items():
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        sc = c["securityContext"]
        check(f"I14 k8s: {name} runs non-root with a read-only root filesystem",
              pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
              and sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
              and sc["capabilities"]["drop"] == ["ALL"], (pod["securityContext"], sc))
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        vols = {v["name"]: v for v in pod["volumes"]}
        check(f"I14 k8s: {name} has a writable emptyDir /tmp",
              "/tmp" in mounts and "emptyDir" in vols[mounts["/tmp"]], mounts)
        r = c["resources"]
        check(f"I14 k8s: {name} has cpu+memory requests and limits",
              all(k in r[t] for t in ("requests", "limits") for k in ("cpu", "memory")), r)
        check(f"I14 k8s: {name} runs `{name}` with the ConfigMap's URLs",
              c["args"] == [name] and {"configMapRef": {"name": "aquasense-env"}} in c["envFrom"])
        labels = pod and d["spec"]["template"]["metadata"]["labels"]
        check(f"I14 k8s: {name} selector matches its pods",
              d["spec"]["selector"]["matchLabels"].items() <= labels.items())
    serve = deps["serve"]["spec"]["template"]["spec"]["containers"][0]
    port = {p["name"]: p["containerPort"] for p in serve["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        g = serve[probe]["httpGet"]
        check(f"I14 k8s: serve {probe} GET /health on 8080",
              g["path"] == "/health" and port.get(g["port"], g["port"]) == 8080, g)
    env = {e["name"]: e for e in serve["env"]}
    tok = env["AQUASENSE_TOKEN"]["valueFrom"]["secretKeyRef"]
    check("I14 k8s: serve's AQUASENSE_TOKEN from the token Secret",
          tok["name"] == "aquasense-token" and ("Secret", "aquasense-token") in by, tok)
    cm = by[("ConfigMap", "aquasense-env")]["data"]
    check("I14 k8s: ConfigMap names the store, table and queue",
          cm["AQUASENSE_STORE"].startswith("s3://") and cm["AQUASENSE_META"].startswith("dynamodb://")
          and cm["AQUASENSE_QUEUE"] != "", cm)
    json.loads(by[("ConfigMap", "aquasense-config")]["data"]["aquasense.json"])
    svc = by[("Service", "aquasense")]["spec"]
    serve_labels = deps["serve"]["spec"]["template"]["metadata"]["labels"]
    check("I14 k8s: Service selects the serve pods, on their http port",
          svc["selector"].items() <= serve_labels.items() and svc["ports"][0]["targetPort"] in ("http", 8080))
    hpa = by[("HorizontalPodAutoscaler", "aquasense-serve")]
    check("I14 k8s: HPA autoscaling/v2 scales serve 4-6",
          hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["scaleTargetRef"]["name"] == "aquasense-serve"
          and (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (4, 6))
    for name in ("serve", "worker"):
        pod_labels = deps[name]["spec"]["template"]["metadata"]["labels"]
        pdb = by[("PodDisruptionBudget", "aquasense-" + name)]["spec"]
        check(f"I14 k8s: PodDisruptionBudget covers {name}",
              pdb["selector"]["matchLabels"].items() <= pod_labels.items())
        np = by[("NetworkPolicy", "aquasense-" + name)]["spec"]
        check(f"I14 k8s: NetworkPolicy restricts {name} (ingress and egress)",
              np["podSelector"]["matchLabels"].items() <= pod_labels.items()
              and set(np["policyTypes"]) == {"Ingress", "Egress"})
    np = by[("NetworkPolicy", "aquasense-serve")]["spec"]
    check("I14 k8s: serve accepts only TCP 8080",
          [p for rule in np["ingress"] for p in rule["ports"]] == [{"protocol": "TCP", "port": 8080}])
    check("I14 k8s: worker accepts no ingress", by[("NetworkPolicy", "aquasense-worker")]["spec"]["ingress"] == [])


def main():
    mode, path = sys.argv[1], sys.argv[2]
    {"cfn": run_cfn, "k8s": run_k8s}[mode](path)
    print(f"{mode}: {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
