"""The original's API stack, as a benchmark peer for `aquasense serve`.

A Flask app with the original endpoints (/health, /temp, /sd, /maxdiff with
year, month, optional sensor) reading AquaSense's SQLite table `metrics`
(src/storage/sqlite_meta_store.cc) instead of DynamoDB: one query per request,
like the original's one DynamoDB get_item per request. Run it the way the
original ran in its container, with gunicorn and sync workers:

    AQ_DB=DIR/aquasense.db /usr/bin/python3 -m gunicorn -w 2 -b 127.0.0.1:8082 \
        --chdir bench/http flask_peer:app
"""
import os
import sqlite3
import threading

from flask import Flask, jsonify, request

app = Flask(__name__)
DB = os.environ.get("AQ_DB", "aquasense-data/aquasense.db")
_local = threading.local()


def db():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, check_same_thread=False)
        _local.conn = conn
    return conn


def month_value(column):
    try:
        year = int(request.args["year"])
        month = int(request.args["month"])
    except (KeyError, ValueError):
        return jsonify(error="bad_request", message="year and month are required integers"), 400
    if not 1 <= month <= 12:
        return jsonify(error="bad_request", message="month must be 1 to 12"), 400
    sensor = request.args.get("sensor", "default")
    row = db().execute(
        f"SELECT {column} FROM metrics WHERE sensor = ? AND month_index = ?",
        (sensor, year * 12 + month - 1),
    ).fetchone()
    if row is None:
        return jsonify(error="not_found", message="no data"), 404
    return jsonify(sensor=sensor, year=year, month=month, **{column: row[0]})


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.route("/temp")
def temp():
    return month_value("mean_temp")


@app.route("/sd")
def sd():
    return month_value("max_sd")


@app.route("/maxdiff")
def maxdiff():
    return month_value("max_temp_diff")
