#!/usr/bin/env python3
"""Turns bench/aws/aws_bench.sh's outputs (OUT dir) into the markdown report:
requests and bytes per weekly file (the binary's own counters), S3 requests by
price class (moto's access log of the same run), DynamoDB write units (the
items the commit changed, sized as DynamoDB bills them), dollars at us-east-1
list prices beside the original's Lambda + Glue + DynamoDB design, and files/s.
Prices and assumptions: bench/aws/README.md (keep the two in step)."""
import glob
import json
import math
import os
import re
import sys

OUT = sys.argv[1]
READINGS_PER_FILE = 7 * 144          # a weekly file at a 10-minute cadence
FILES_PER_MILLION = 1e6 / READINGS_PER_FILE
STATION_YEAR_FILES = 1000 * 52

# us-east-1 list prices (aws.amazon.com/<service>/pricing), as of 2025-06;
# free tiers ignored.
P = {
    "s3_put": 0.005 / 1000,         # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,        # GET, HEAD, others
    "s3_gb_month": 0.023,           # Standard, first 50 TB
    "ddb_wru": 0.625 / 1e6,         # on-demand (price of 2024-11-01)
    "ddb_rru": 0.125 / 1e6,
    "ddb_gb_month": 0.25,
    "sqs_req": 0.40 / 1e6,          # standard queue, per 64 KB chunk
    "lambda_req": 0.20 / 1e6,
    "lambda_gb_s": 0.0000166667,    # x86
    "glue_dpu_h": 0.44,             # billed per second, 1-minute minimum
    "fargate_vcpu_h": 0.04048,
    "fargate_gb_h": 0.004445,
}


def load(name):
    with open(os.path.join(OUT, name + ".json")) as f:
        return json.load(f)


def aws(run, service, field="requests"):
    return run["aws"].get(service, {}).get(field, 0)


def s3_classes(name):
    """(put-class, get-class, delete) requests of a run, from moto's access log."""
    put = get = delete = 0
    path = os.path.join(OUT, name + ".moto.log")
    for line in open(path):
        m = re.search(r'"([A-Z]+) (\S+) HTTP', line)
        if not m or not m.group(2).startswith("/aq-bench"):
            continue  # SQS and DynamoDB are POST / (or /<account>/<queue>)
        method, target = m.groups()
        if method == "DELETE":
            delete += 1
        elif method in ("GET", "HEAD") and not re.search(r"[?&](list-type|prefix|delimiter)=", target) \
                and not re.fullmatch(r"/aq-bench/?(\?.*)?", target):
            get += 1
        else:
            put += 1
    return put, get, delete


def items_diff(name):
    """(WRU, item writes, table bytes after) of a run, from the item snapshots."""
    try:
        before, after = load("items-before-" + name), load("items-after-" + name)
    except FileNotFoundError:
        return None
    wru = writes = 0
    for key, (size, digest) in after.items():
        old = before.get(key)
        rewritten = key.startswith("sensors|")  # rewritten by every commit of its sensor
        if old is None or old[1] != digest or rewritten:
            units = max(1, math.ceil(size / 1024))
            # the sensor transaction (S#..., sensors, changes) costs 2 WRU per KB
            tx = key.startswith(("S#", "sensors|", "changes|"))
            wru += units * (2 if tx else 1)
            writes += 1
    for key in before:
        if key not in after:  # a delete costs like a write of the item
            wru += 1
            writes += 1
    return wru, writes, sum(v[0] for v in after.values())


def per_file(name, files):
    """Counters of run NAME minus the idle run, per file."""
    idle, run = load("idle"), load(name)
    row = {}
    for svc in ("s3", "sqs", "dynamodb", "sns"):
        for field in ("requests", "bytes_sent", "bytes_received"):
            row[(svc, field)] = (aws(run, svc, field) - aws(idle, svc, field)) / files
    ip, ig, idel = s3_classes("idle")
    p, g, d = s3_classes(name)
    row["s3_put"], row["s3_get"], row["s3_delete"] = (p - ip) / files, (g - ig) / files, (d - idel) / files
    row["log_s3"] = (p + g + d - ip - ig - idel) / files
    diff = items_diff(name)
    if diff:
        row["wru"], row["item_writes"], row["table_bytes"] = diff[0] / files, diff[1] / files, diff[2]
    return row


def main():
    runs = [("first_file", 1, "a sensor's first week"), ("next_file", 1, "a later week"),
            ("five_files", 5, "five more weeks, one run (per file)")]
    rows = {name: per_file(name, n) for name, n, _ in runs}
    print("### One weekly file of one sensor (1,008 readings, ~27 KB)\n")
    print("Counted by the binary (`worker --json`, `aws` counters), minus a worker run that found "
          "nothing (start + one empty receive: "
          + ", ".join(f"{s} {aws(load('idle'), s)}" for s in ("s3", "sqs", "dynamodb")) + " requests).\n")
    print("| run | S3 req | S3 sent / recv B | SQS req | SQS sent / recv B | DynamoDB req "
          "| DynamoDB sent / recv B | S3 PUT-class / GET-class / DELETE (moto log) | DynamoDB WRU (items) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, _, what in runs:
        r = rows[name]
        f = lambda v: f"{v:,.1f}".rstrip("0").rstrip(".")
        wru = f"{f(r['wru'])} ({f(r['item_writes'])})" if "wru" in r else "n/a (SQLite)"
        print(f"| {what} | {f(r[('s3','requests')])} | {f(r[('s3','bytes_sent')])} / "
              f"{f(r[('s3','bytes_received')])} | {f(r[('sqs','requests')])} | "
              f"{f(r[('sqs','bytes_sent')])} / {f(r[('sqs','bytes_received')])} | "
              f"{f(r[('dynamodb','requests')])} | {f(r[('dynamodb','bytes_sent')])} / "
              f"{f(r[('dynamodb','bytes_received')])} | {f(r['s3_put'])} / {f(r['s3_get'])} / "
              f"{f(r['s3_delete'])} | {wru} |")
    r = rows["five_files"]
    cost_table(r)
    throughput()


def cost_table(r):
    ddb_rru = r[("dynamodb", "requests")] + r[("dynamodb", "bytes_received")] / 4096
    ours = {
        "S3 requests": (r["s3_put"] + 1) * P["s3_put"] + r["s3_get"] * P["s3_get"],  # +1: the station's PUT
        "SQS requests": r[("sqs", "requests")] * P["sqs_req"],
        "DynamoDB WRU": r.get("wru", 0) * P["ddb_wru"],
        "DynamoDB RRU (est.)": ddb_rru * P["ddb_rru"],
    }
    # The original (seed design), per weekly file; assumptions in README.md.
    lam_gb_s = 0.5 * 2 + 0.125 * 0.5 + 0.25 * 1
    orig = {
        "S3 requests": 1 + 3 + 1 + 2 + 1,  # put-class: upload; valid/invalid/.. rewrites; glue out+list
        "S3 GET": 1 + 2 + 1 + 1,
        "Lambda": 3 * P["lambda_req"] + lam_gb_s * P["lambda_gb_s"],
        "Glue (2 DPU x 1 min min.)": 2 / 60 * P["glue_dpu_h"],
        "DynamoDB WRU": 6.5 * P["ddb_wru"],
    }
    orig_cost = {
        "S3 requests": orig["S3 requests"] * P["s3_put"] + orig["S3 GET"] * P["s3_get"],
        "Lambda": orig["Lambda"], "Glue (2 DPU x 1 min min.)": orig["Glue (2 DPU x 1 min min.)"],
        "DynamoDB WRU": orig["DynamoDB WRU"],
    }
    a, o = sum(ours.values()), sum(orig_cost.values())
    year_landing_gb = STATION_YEAR_FILES * load("file")["file_bytes"] / 1e9
    table_gb = r.get("table_bytes", 0) / 6 * 52 * 1000 / 1e9  # 6 weeks of one sensor in the table
    storage_year = 6.5 * (year_landing_gb * P["s3_gb_month"] + table_gb * P["ddb_gb_month"])
    worker_year = 8760 * (0.25 * P["fargate_vcpu_h"] + 0.5 * P["fargate_gb_h"])
    poll_year = 8760 * 3600 / 20 * P["sqs_req"]
    print("\n### Dollars (us-east-1 list prices of 2025-06; free tiers ignored)\n")
    print("| per weekly file | AquaSense worker | original (Lambda + Glue + DynamoDB) |")
    print("|---|---:|---:|")
    for k, v in ours.items():
        print(f"| {k} | ${v:.8f} | " + (f"${orig_cost[k]:.8f}" if k in orig_cost else "—") + " |")
    for k in ("Lambda", "Glue (2 DPU x 1 min min.)"):
        print(f"| {k} | — | ${orig_cost[k]:.8f} |")
    print(f"| **per file** | **${a:.8f}** | **${o:.8f}** |")
    print(f"| per million readings ({FILES_PER_MILLION:.0f} files) | ${a * FILES_PER_MILLION:.2f} "
          f"| ${o * FILES_PER_MILLION:.2f} |")
    print(f"| 1,000 stations x 52 weeks, requests | ${a * STATION_YEAR_FILES:,.2f} "
          f"| ${o * STATION_YEAR_FILES:,.2f} |")
    print(f"| + storage over the year ({year_landing_gb:.2f} GB raw in S3 + {table_gb:.2f} GB "
          f"table, linear growth) | ${storage_year:,.2f} | ${storage_year:,.2f} (same data kept) |")
    print(f"| + one always-on worker (Fargate 0.25 vCPU / 0.5 GB) + its idle long polls (20 s) "
          f"| ${worker_year + poll_year:,.2f} | — |")
    print(f"| **1,000 stations x 52 weeks, total** | **${a * STATION_YEAR_FILES + storage_year + worker_year + poll_year:,.2f}** "
          f"| **${o * STATION_YEAR_FILES + storage_year:,.2f}** |")


def throughput():
    print("\n### Files/s on moto (the bottleneck: one Python process that closes every connection)\n")
    print("| workers | files | seconds | files/s | per worker: files ingested |")
    print("|---:|---:|---:|---:|---|")
    for w in (1, 3):
        t = load(f"tp{w}")
        per = [load(os.path.basename(p)[:-5])["files_ingested"]
               for p in sorted(glob.glob(os.path.join(OUT, f"tp{w}-w*.json")))]
        print(f"| {w} | {t['files']} | {t['seconds']:.1f} | {t['files'] / t['seconds']:.2f} | {per} |")
    print("\nThe seconds include each worker's start and its last empty 1-second receive.")
    print("Machine: " + open(os.path.join(OUT, "load.txt")).read().replace("\n", "; "))


main()
