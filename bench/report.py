#!/usr/bin/python3
"""report.py -- the markdown summary of bench/ingest_bench.sh.

Run by ingest_bench.sh inside bench/out/ with its settings in the
environment; reads the hyperfine JSON exports (hf_*.json), the peak-RSS files
(rss_*.txt), the ingest summaries (summary_*.json) and both monthly.csv files,
and prints the table on stdout. Standard library only.
"""
import csv
import json
import math
import os
import platform
import sys

E = os.environ


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def timing(tag):
    """(mean, stddev, min, runs) in seconds from hf_<tag>.json, or None."""
    d = load(f"hf_{tag}.json")
    if not d:
        return None
    r = d["results"][0]
    return (r["mean"], r.get("stddev") or 0.0, r["min"], len(r["times"]),
            (r.get("user") or 0.0) + (r.get("system") or 0.0))


def rss_mb(tag):
    try:
        with open(f"rss_{tag}.txt") as f:
            return int(f.read().strip()) / 1024.0
    except (OSError, ValueError):
        return None


def summary(tag):
    d = load(f"summary_{tag}.json")
    return d if isinstance(d, dict) else None


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def fmt_t(t):
    if t is None:
        return "n/a"
    mean, sd, _mn, runs, cpu = t
    if mean < 1:
        return f"{mean * 1000:.1f} ms ± {sd * 1000:.1f} ({runs} runs; CPU {cpu * 1000:.1f} ms)"
    return f"{mean:.2f} s ± {sd:.2f} ({runs} runs; CPU {cpu:.2f} s)"


def fmt_rows(n):
    return f"{int(n):,}".replace(",", "\u202f") if n is not None else "n/a"


def throughput(t, rows, nbytes):
    if t is None or not rows or not nbytes:
        return "n/a"
    mean = t[0]
    return f"{rows / mean / 1e6:.2f} M rows/s, {nbytes / mean / 1e6:.0f} MB/s"


def fmt_mb(x):
    return f"{x:.0f} MB" if x is not None else "n/a"


def upload_median(path):
    """The server-side median (ms) of the one binary in upload_bench.sh's table."""
    try:
        for line in open(path):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 2 and cells[0].startswith("`"):
                return float(cells[1])
    except (OSError, ValueError):
        pass
    return None


def fsyncs(path):
    """'N fsync + M fdatasync (x ms in syscalls)' from a strace -c summary."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    parts, secs = [], 0.0
    for line in lines:
        f = line.split()
        if len(f) >= 5 and f[-1] in ("fsync", "fdatasync", "sync_file_range"):
            parts.append(f"{f[3]} {f[-1]}")
            secs += float(f[1])
    return (" + ".join(parts) + f" (strace -w: {secs * 1000:.1f} ms wall in those calls)") if parts else "0"


def read_monthly(path):
    """Rows of a monthly CSV, or of every CSV in a directory (aquasense
    keeps one file per sensor: analysis/monthly/<sensor>.csv)."""
    paths = [path]
    if os.path.isdir(path):
        paths = [os.path.join(path, n) for n in sorted(os.listdir(path)) if n.endswith(".csv")]
    rows = {}
    for p in paths:
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                rows[(r["sensor"], int(r["year"]), int(r["month"]))] = r
    return rows


def close(a, b, rel=1e-9):
    a = a.strip() if a else ""
    b = b.strip() if b else ""
    if a in ("", "nan") or b in ("", "nan"):
        return a in ("", "nan") and b in ("", "nan")
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=rel, abs_tol=1e-9)


def cross_check(store):
    """Compares aquasense's counts and monthly metrics with the pandas peer's."""
    notes = []
    aq = summary("aq_" + {"store_big": "big", "store_small": "small",
                          "store_peer": "peer"}[store])
    pd_ = summary("pandas")
    if aq and pd_:
        diffs = [f"{k} {aq.get(k)} vs {pd_.get(k)}"
                 for k in ("rows", "valid", "invalid", "duplicates", "alerts")
                 if aq.get(k) != pd_.get(k)]
        notes.append("counts (rows, valid, invalid, duplicates, alerts) "
                     + ("equal" if not diffs else "DIFFER: " + "; ".join(diffs)))
    else:
        notes.append("counts: a summary is missing")
    a_path = os.path.join(store, "analysis", "monthly")
    p_path = os.path.join("pandas_out", "monthly.csv")
    if not (os.path.exists(a_path) and os.path.exists(p_path)):
        notes.append("monthly metrics: missing on one side")
        return notes
    a, p = read_monthly(a_path), read_monthly(p_path)
    bad = []
    if set(a) != set(p):
        bad.append(f"{len(set(a) ^ set(p))} sensor-months on one side only")
    for k in sorted(set(a) & set(p)):
        ra, rp = a[k], p[k]
        for col in ("mean_temp", "max_temp", "max_sd", "max_temp_diff"):
            if not close(ra[col], rp[col]):
                bad.append(f"{k} {col}: {ra[col]} vs {rp[col]}")
        if int(ra["readings"]) != int(rp["readings"]):
            bad.append(f"{k} readings: {ra['readings']} vs {rp['readings']}")
        if len(bad) > 5:
            break
    notes.append(f"monthly metrics ({len(a)} sensor-months, analysis/monthly/ vs pandas' monthly.csv): "
                 + ("identical within 1e-9 relative" if not bad else "DIFFER: " + "; ".join(bad[:5])))
    return notes


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def shape_table(rows, t_mix, t_pandas_mix, mix_is_peer):
    """Issue 11: every number shape at ROWS rows, aquasense and pandas on the
    same file in this run, and the store's bytes per valid reading."""
    out = ["", f"Number shapes, {fmt_rows(rows)} rows each (`aq_gen_data --digits`; "
           "bytes = aquasense.db after the ingest / valid readings):", "",
           "| --digits | aquasense | rows/s | pandas peer | aquasense / pandas | bytes per reading |",
           "|---|---|---|---|---|---|"]
    shapes = (E.get("SHAPES") or "").split()
    entries = [(s, timing(f"aq_shape_{s}"), timing(f"pandas_shape_{s}"),
                read_int(f"bytes_shape_{s}.txt"), summary(f"aq_shape_{s}")) for s in shapes]
    entries.append((E.get("DIGITS", "mix") + " (main file)", t_mix,
                    t_pandas_mix if mix_is_peer else None, read_int("bytes_big.txt"),
                    summary("aq_big")))
    for name, t_aq, t_pd, nbytes, summ in entries:
        valid = (summ or {}).get("valid")
        bpr = f"{nbytes / valid:.1f}" if nbytes and valid else "n/a"
        rate = f"{rows / t_aq[0] / 1e6:.2f} M" if t_aq else "n/a"
        ratio = f"**{t_pd[0] / t_aq[0]:.1f}×**" if t_aq and t_pd else "n/a"
        out.append(f"| {name} | {fmt_t(t_aq)} | {rate} | {fmt_t(t_pd)} | {ratio} | {bpr} |")
    return out


def main():
    rows, small_rows, peer_rows = int(E["ROWS"]), int(E["SMALL_ROWS"]), int(E["PANDAS_ROWS"])
    big, small, peer_file = E["BIG"], E["SMALL"], E["PANDAS_FILE"]
    big_b, small_b, peer_b = size(big), size(small), size(peer_file)

    t_big = timing("aq_big")
    t_small = timing("aq_small") if small != big else t_big
    t_peer_aq = {big: t_big, small: t_small}.get(peer_file) or timing("aq_peer")
    t_pandas = timing("pandas")
    t_inc = timing("inc")
    t_inc_empty = timing("inc_empty")

    r_aq_small, r_aq_big, r_aq_huge = rss_mb("aq_small"), rss_mb("aq_big"), rss_mb("aq_huge")
    r_pd_small, r_pd_big = rss_mb("pandas_small"), rss_mb("pandas_big")
    inc = summary("inc") or {}
    s_big = summary("aq_big") or {}

    out = []
    w = out.append
    w("# AquaSense ingest benchmark")
    w("")
    w(f"- commit `{E.get('GIT_REV')}` (aquasense binary built {E.get('AQ_BUILT')}), "
      f"{E.get('CPU')} ({E.get('NPROC')} cores), "
      f"{platform.system()} {platform.release()}, {E.get('HF_VERSION')}")
    sizes = f"{fmt_rows(rows)} rows ({big_b / 1e6:.0f} MB)"
    if small != big:
        sizes += f" and {fmt_rows(small_rows)} rows ({small_b / 1e6:.0f} MB)"
    w(f"- data: `aq_gen_data --sensors {E['SENSORS']} --bad-share {E['BAD_SHARE']} "
      f"--dup-share {E['DUP_SHARE']} --seed {E['SEED']}`: {sizes}; "
      f"MB = 10^6 bytes of input CSV")
    w("- times: hyperfine mean ± stddev, wall clock, each full ingest into an empty data dir")
    w("")
    w("| measurement | result | target |")
    w("|---|---|---|")
    w(f"| aquasense full ingest, {fmt_rows(rows)} rows | {fmt_t(t_big)} | |")
    w(f"| — throughput | {throughput(t_big, rows, big_b)} | |")
    if small != big:
        w(f"| aquasense full ingest, {fmt_rows(small_rows)} rows | {fmt_t(t_small)} | |")
        w(f"| — throughput | {throughput(t_small, small_rows, small_b)} | |")
    w(f"| pandas peer, {fmt_rows(peer_rows)} rows | {fmt_t(t_pandas)} | |")
    w(f"| — throughput | {throughput(t_pandas, peer_rows, peer_b)} | |")
    if t_pandas and t_peer_aq:
        w(f"| **speed-up aquasense vs pandas** (same {fmt_rows(peer_rows)}-row file, "
          f"same run) | **{t_pandas[0] / t_peer_aq[0]:.1f}×** | |")
    if small != big:
        w(f"| peak RSS aquasense, {fmt_rows(small_rows)} rows | {fmt_mb(r_aq_small)} | ≤ 256 MB |")
    w(f"| peak RSS aquasense, {fmt_rows(rows)} rows | {fmt_mb(r_aq_big)} | ≤ 256 MB, flat |")
    if r_aq_huge is not None:
        huge = int(E.get("HUGE_ROWS") or 0)
        w(f"| peak RSS aquasense, {fmt_rows(huge)} rows (RSS only) | {fmt_mb(r_aq_huge)} | ≤ 256 MB, flat |")
    if small != big or r_pd_big is None:
        w(f"| peak RSS pandas, {fmt_rows(small_rows)} rows | {fmt_mb(r_pd_small)} | |")
    if r_pd_big is not None:
        w(f"| peak RSS pandas, {fmt_rows(rows)} rows | {fmt_mb(r_pd_big)} | |")
    w(f"| incremental: 7 new days of `{E['WEEK_SENSOR']}` from {E['NEXT_DATE']} into the "
      f"{fmt_rows(rows)}-row store | {fmt_t(t_inc)} | |")
    if t_inc and t_big:
        ratio = t_inc[0] / t_big[0]
        w(f"| **incremental / full ingest time** | **{ratio:.2e} (1/{1 / ratio:,.0f})** | < 1/1000 |")
    up = upload_median("upload_results.md")
    if up is not None and t_big:
        ratio = up / 1000 / t_big[0]
        w(f"| the same, uploaded to a running `serve` (server-side median, "
          f"`bench/http/upload_bench.sh`) | {up:.2f} ms | |")
        w(f"| **upload / full ingest time** | **{ratio:.2e} (1/{1 / ratio:,.0f})** | < 1/1000 |")
    w(f"| — reference: the same week into an empty store | {fmt_t(t_inc_empty)} | |")
    fs = fsyncs("strace_inc.txt")
    if fs:
        w(f"| — fsync/fdatasync calls in one incremental run | {fs} | |")
    if inc:
        w(f"| — incremental summary | valid {inc.get('valid')}, "
          f"months_updated {inc.get('months_updated')}, files {inc.get('files')} | |")
    if s_big:
        w(f"| full-ingest summary ({fmt_rows(rows)}) | rows {s_big.get('rows')}, valid "
          f"{s_big.get('valid')}, invalid {s_big.get('invalid')}, duplicates "
          f"{s_big.get('duplicates')}, alerts {s_big.get('alerts')}, months_updated "
          f"{s_big.get('months_updated')} | |")
    for note in cross_check(E["PEER_STORE"]):
        w(f"| cross-check vs pandas ({fmt_rows(peer_rows)} rows) | {note} | |")
    if E.get("SHAPES") is not None:
        out.extend(shape_table(rows, t_big, t_pandas, peer_file == big))
    w("")
    w("Notes: the pandas peer (`bench/pandas_peer.py`) applies the same rules and "
      "writes valid/invalid/monthly CSVs, but keeps no landing copy, no SQLite store "
      "and no alert outbox, and never fsyncs, so the ratio favours pandas. CPU = "
      "user + system time (hyperfine mean); wall time well above CPU time is "
      "waiting, mostly on fsync. The incremental run restores a copy of the full "
      "store in hyperfine's --prepare (copy + sync, not timed).")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
