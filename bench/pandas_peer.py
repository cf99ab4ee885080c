#!/usr/bin/python3
"""pandas_peer.py INPUT OUTDIR -- the benchmark's pandas peer.

A straightforward pandas implementation of AquaSense's filter and aggregate
rules (SPEC.md sections 3 and 4), written the way a competent pandas user
would: read the CSV, vectorised parsing and checks, drop_duplicates, groupby.
It is the yardstick for bench/ingest_bench.sh, not a second implementation:

- input: `sensor,date,temperature,sd` with a header (what aq_gen_data writes);
- dates `YYYY-MM-DD` or `YYYY/MM/DD` (must be real calendar dates);
- numbers via pd.to_numeric; NaN / infinite / empty -> bad_number (a missing
  trailing field reads as empty, so it is reported as bad_number too; a row
  with extra fields makes read_csv fail, pandas' default);
- temperature in [-5, 45], sd in [0, 10], sensor ids [A-Za-z0-9._-]{1,64};
- exact duplicates (same sensor, date and values) dropped and counted; for the
  same sensor and date with other values the first row stays, later ones are
  invalid (conflicting_duplicate);
- writes OUTDIR/valid.csv, OUTDIR/invalid.csv, OUTDIR/monthly.csv
  (sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings;
  max_temp_diff empty when the previous calendar month has no data);
- prints a JSON summary (rows, valid, invalid, duplicates, alerts, months).
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd

TEMP_MIN, TEMP_MAX = -5.0, 45.0
SD_MIN, SD_MAX = 0.0, 10.0
SD_LIMIT = 0.5
COLS = ["sensor", "date", "temperature", "sd"]


def main(argv):
    if len(argv) != 3:
        print("usage: pandas_peer.py INPUT OUTDIR", file=sys.stderr)
        return 1
    path, outdir = argv[1], argv[2]
    os.makedirs(outdir, exist_ok=True)
    t0 = time.perf_counter()

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.columns = [c.strip().lower() for c in df.columns]
    df = df[COLS]
    df["line"] = np.arange(2, len(df) + 2)  # physical line (header is line 1)

    # --- parse ------------------------------------------------------------
    date = pd.to_datetime(df["date"].str.replace("/", "-", regex=False),
                          format="%Y-%m-%d", errors="coerce")
    temp = pd.to_numeric(df["temperature"], errors="coerce")
    sd = pd.to_numeric(df["sd"], errors="coerce")

    # --- validate (first failing rule wins) --------------------------------
    bad_sensor = ~df["sensor"].str.fullmatch(r"[A-Za-z0-9._-]{1,64}")
    bad_date = date.isna()
    bad_number = ~np.isfinite(temp) | ~np.isfinite(sd)
    temp_range = ~temp.between(TEMP_MIN, TEMP_MAX)
    sd_range = ~sd.between(SD_MIN, SD_MAX)
    reason = np.select(
        [bad_sensor, bad_date, bad_number, temp_range, sd_range],
        ["bad_sensor", "bad_date", "bad_number", "temp_out_of_range", "sd_out_of_range"],
        default="")
    df["reason"] = reason
    df["date_parsed"] = date
    df["temp"] = temp
    df["sdv"] = sd

    invalid = df[df["reason"] != ""].copy()
    invalid["detail"] = np.select(
        [invalid["reason"] == "bad_date",
         invalid["reason"].isin(["bad_number", "temp_out_of_range"]),
         invalid["reason"] == "sd_out_of_range"],
        ["date=" + invalid["date"],
         "temperature=" + invalid["temperature"] + " sd=" + invalid["sd"],
         "sd=" + invalid["sd"]],
        default="sensor=" + invalid["sensor"])

    valid = df[df["reason"] == ""]

    # --- duplicates --------------------------------------------------------
    key = ["sensor", "date_parsed"]
    exact = valid.duplicated(subset=key + ["temp", "sdv"], keep="first")
    duplicates = int(exact.sum())
    valid = valid[~exact]
    conflict = valid.duplicated(subset=key, keep="first")
    if conflict.any():
        stored = valid[~conflict][key + ["temp", "sdv"]]
        conf = valid[conflict].merge(stored, on=key, how="left", suffixes=("", "_stored"))
        conf["reason"] = "conflicting_duplicate"
        conf["detail"] = ("stored temperature=" + conf["temp_stored"].astype(str)
                          + " sd=" + conf["sdv_stored"].astype(str))
        invalid = pd.concat([invalid, conf[invalid.columns]]).sort_values("line")
    valid = valid[~conflict]

    # --- outputs: valid and invalid rows ------------------------------------
    out_valid = pd.DataFrame({"sensor": valid["sensor"], "date": valid["date_parsed"],
                              "temperature": valid["temp"], "sd": valid["sdv"]})
    out_valid.to_csv(os.path.join(outdir, "valid.csv"), index=False)

    invalid["source"] = os.path.basename(path)
    invalid["raw"] = (invalid["sensor"] + "," + invalid["date"] + ","
                      + invalid["temperature"] + "," + invalid["sd"])
    invalid[["source", "line", "reason", "detail", "raw"]].to_csv(
        os.path.join(outdir, "invalid.csv"), index=False, quoting=1)

    # --- monthly metrics ----------------------------------------------------
    v = out_valid.sort_values(["sensor", "date"])
    v["year"] = v["date"].dt.year
    v["month"] = v["date"].dt.month
    monthly = (v.groupby(["sensor", "year", "month"], sort=True)
                .agg(mean_temp=("temperature", "mean"),
                     max_temp=("temperature", "max"),
                     max_sd=("sd", "max"),
                     readings=("temperature", "size"))
                .reset_index())
    period = monthly["year"] * 12 + monthly["month"] - 1
    prev_period = period.groupby(monthly["sensor"]).shift()
    prev_max = monthly.groupby("sensor")["max_temp"].shift()
    monthly["max_temp_diff"] = np.where(period - prev_period == 1,
                                        monthly["max_temp"] - prev_max, np.nan)
    monthly = monthly[["sensor", "year", "month", "mean_temp", "max_temp", "max_sd",
                       "max_temp_diff", "readings"]]
    monthly.to_csv(os.path.join(outdir, "monthly.csv"), index=False)

    summary = {
        "rows": int(len(df)),
        "valid": int(len(valid)),
        "invalid": int(len(invalid)),
        "duplicates": duplicates,
        "alerts": int((valid["sdv"] > SD_LIMIT).sum()),
        "months": int(len(monthly)),
        "reasons": {k: int(n) for k, n in invalid["reason"].value_counts().items()},
        "seconds": round(time.perf_counter() - t0, 3),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
