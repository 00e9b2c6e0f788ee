#!/usr/bin/env python3
"""Automatic processing benchmark: how fast logs are analysed end to end by `commlog serve`.

    python3 bench/processing.py                 # 1,000 logs per engine, PostgreSQL
    LOGS=300 python3 bench/processing.py

For each sentiment engine (`vader`, then `embedding` when COMMLOG_MODELS_DIR holds
all-minilm-l6-v2): a fresh PostgreSQL database and company, LOGS call logs whose content is a
real review from the sentiment corpus (with a phone number and a promise to call back added),
created over the API as fast as one client can; then the time until every `process_log` job is
done (language, PII, sentiment, key topics, categories, follow-up, escalation). Reports logs
created per second and logs processed per second, and checks every log got a sentiment.

Writes bench/PROCESSING.md. Python 3.11 standard library and psql.
"""

import json
import os
import subprocess
import time

import harness
from harness import BIN, OUT, log

LOGS = int(os.environ.get("LOGS", "1000"))
PORT = 18093
EMAIL = "admin@acme.bench.example"
PASSWORD = "Bench-Passw0rd-2026"
RESULTS = os.path.join(harness.REPO, "bench", "PROCESSING.md")
CORPUS = os.environ.get("COMMLOG_CORPORA", os.path.join(os.path.dirname(harness.REPO), "shared", "corpora"))
MODELS = os.environ.get("COMMLOG_MODELS_DIR")


def texts():
    path = os.path.join(CORPUS, "sentiment", "amazonReviewSnippets_GroundTruth.txt")
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                out.append(parts[2])
    return out


def run(engine, corpus):
    db = f"commlog_bench_processing_{engine}"
    data_dir = os.path.join(OUT, f"processing-{engine}")
    subprocess.run(["rm", "-rf", data_dir], check=True)
    env = harness.server_env(db, data_dir)
    if MODELS:
        env["COMMLOG_MODELS_DIR"] = MODELS
    harness.fresh_database(db, env, "Acme", EMAIL, PASSWORD)
    server = harness.Server(env, PORT, os.path.join(OUT, f"processing-{engine}.log"))
    server.start()
    try:
        server.wait_for("/readyz")
        token = server.api.login(EMAIL, PASSWORD)
        auth = {"Authorization": f"Bearer {token}"}
        status, _, body = server.api.request(
            "PUT", "/api/company/processing-settings/", {"sentiment_engine": engine}, auth)
        assert status == 200, (status, body)
        t0 = time.monotonic()
        ids = []
        for i in range(LOGS):
            content = f"{corpus[i % len(corpus)]} Call me back tomorrow on +1 415 555 {i % 10000:04d}."
            body = json.loads(harness.call_body(content))
            body["start_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body.pop("end_time")
            status, _, created = server.api.request("POST", "/api/communication-logs/", body, auth)
            assert status == 201, (status, created)
            ids.append(created["id"])
        created_s = time.monotonic() - t0
        while True:
            left = harness.psql(
                "SELECT count(*) FROM jobs WHERE kind = 'process_log' AND status IN ('queued', 'running')", db)[0]
            if left == "0":
                break
            time.sleep(0.05)
        done_s = time.monotonic() - t0
        dead = harness.psql("SELECT count(*) FROM jobs WHERE kind = 'process_log' AND status = 'dead'", db)[0]
        analysed = harness.psql(
            "SELECT count(*) FROM crm_communication_logs WHERE sentiment IS NOT NULL AND key_topics <> '[]'", db)[0]
        used = [row.replace("\t", " × ") for row in harness.psql(
            "SELECT engine, count(*) FROM log_processing_runs WHERE step = 'sentiment' GROUP BY engine", db)]
        return {
            "engine": engine, "logs": LOGS, "created_s": created_s, "done_s": done_s,
            "create_rate": LOGS / created_s, "process_rate": LOGS / done_s,
            "dead": int(dead), "analysed": int(analysed), "sentiment_engines": used,
        }
    finally:
        server.stop()
        harness.drop_database(db)


def main():
    os.makedirs(OUT, exist_ok=True)
    corpus = texts()
    engines = ["vader"]
    if MODELS and os.path.isfile(os.path.join(MODELS, "all-minilm-l6-v2", "model.safetensors")):
        engines.append("embedding")
    results = []
    for engine in engines:
        log(f"{LOGS} logs with sentiment engine {engine}")
        r = run(engine, corpus)
        log(json.dumps(r))
        results.append(r)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("# Automatic processing benchmark\n\n")
        f.write(f"`python3 bench/processing.py` (LOGS={LOGS}), {time.strftime('%Y-%m-%d')}, PostgreSQL on this "
                "2-core machine, one `commlog serve` (release build) running its job runner; one client creating "
                "call logs whose content is an Amazon review from the sentiment corpus plus a phone number and a "
                "promise to call back. Every log runs language, PII, sentiment, key topics, categorisation, "
                "follow-up and escalation.\n\n")
        f.write("| sentiment engine | logs | created/s | processed/s (creation to last job done) | all analysed | dead jobs |\n")
        f.write("|---|---|---|---|---|---|\n")
        for r in results:
            f.write(f"| {r['engine']} | {r['logs']} | {r['create_rate']:.0f} | {r['process_rate']:.0f} "
                    f"({r['done_s']:.1f} s) | {r['analysed']} of {r['logs']} | {r['dead']} |\n")
        f.write("\nSentiment runs recorded per engine: "
                + "; ".join(f"{r['engine']}: {', '.join(r['sentiment_engines'])}" for r in results) + "\n")
    log(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
