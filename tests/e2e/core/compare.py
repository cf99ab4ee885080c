#!/usr/bin/env python3
"""Comparators for tests/e2e/core/run.sh (stdlib only).

  compare.py invalid EXPECTED ACTUAL
      Both are filtered/*.invalid.csv files (RFC 4180). The header must be
      equal, the row count equal, and every field equal, except where the
      expected field is exactly `*` (detail texts and raw bytes the contract
      leaves open). Prints the differences; exit 1 on mismatch.

  compare.py json EXPECTED ACTUAL
      EXPECTED is a JSON object holding the subset of fields to check
      (e.g. counts of `ingest --json`, never `seconds`); ACTUAL must be one
      JSON object on one line. Objects compare key by key (only the keys of
      EXPECTED), arrays element by element (same length), scalars by value.
"""
import csv
import io
import json
import sys


def read_csv(path):
    with open(path, 'rb') as f:
        data = f.read()
    text = data.decode('utf-8', errors='surrogateescape')
    return list(csv.reader(io.StringIO(text, newline=''), strict=True))


def cmp_invalid(exp_path, act_path):
    exp, act = read_csv(exp_path), read_csv(act_path)
    errs = []
    if not act or act[0] != exp[0]:
        errs.append(f"header: expected {exp[0]!r}, got {act[0] if act else None!r}")
    if len(act) != len(exp):
        errs.append(f"rows: expected {len(exp) - 1}, got {len(act) - 1}")
    for i, (e, a) in enumerate(zip(exp[1:], act[1:]), start=1):
        if len(e) != len(a):
            errs.append(f"row {i}: expected {len(e)} fields {e!r}, got {a!r}")
            continue
        for j, (ef, af) in enumerate(zip(e, a)):
            if ef != '*' and ef != af:
                errs.append(f"row {i} field {exp[0][j] if j < len(exp[0]) else j}: "
                            f"expected {ef!r}, got {af!r}")
    for e in errs:
        print('    ' + e)
    return not errs


def sub(exp, act, path, errs):
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            errs.append(f"{path}: expected an object, got {act!r}")
            return
        for k, v in exp.items():
            if k not in act:
                errs.append(f"{path}.{k}: missing")
            else:
                sub(v, act[k], f"{path}.{k}", errs)
    elif isinstance(exp, list):
        if not isinstance(act, list) or len(act) != len(exp):
            errs.append(f"{path}: expected a list of {len(exp)}, got {act!r}")
            return
        for i, (e, a) in enumerate(zip(exp, act)):
            sub(e, a, f"{path}[{i}]", errs)
    elif exp != act or type(exp) is not type(act) and not (
            isinstance(exp, (int, float)) and isinstance(act, (int, float))):
        errs.append(f"{path}: expected {exp!r}, got {act!r}")


def cmp_json(exp_path, act_path):
    with open(exp_path) as f:
        exp = json.load(f)
    with open(act_path, 'rb') as f:
        raw = f.read().decode('utf-8', errors='replace')
    lines = [l for l in raw.split('\n') if l.strip()]
    if len(lines) != 1:
        print(f"    expected one JSON line on stdout, got {len(lines)}: {raw[:300]!r}")
        return False
    try:
        act = json.loads(lines[0])
    except ValueError as e:
        print(f"    stdout is not JSON ({e}): {lines[0][:300]!r}")
        return False
    errs = []
    sub(exp, act, '$', errs)
    for e in errs:
        print('    ' + e)
    if errs:
        print('    actual: ' + lines[0][:600])
    return not errs


if __name__ == '__main__':
    mode, e, a = sys.argv[1:4]
    ok = cmp_invalid(e, a) if mode == 'invalid' else cmp_json(e, a)
    sys.exit(0 if ok else 1)
