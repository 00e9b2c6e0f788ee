#!/usr/bin/env python3
"""Encryption at rest and erasure benchmark on PostgreSQL (run by hand, not by CI).

    python3 bench/compliance.py                 # 20 s per scenario, 100,000-log subject
    DURATION=5s SUBJECT_LOGS=20000 python3 bench/compliance.py   # quick trial

What it measures, in the database `commlog_bench_compliance` (dropped and made again for each
part), with `commlog serve` (release build) as the superuser and rate limits off:

1. Encryption off, then on (`--encrypt-at-rest`), each on a fresh database: creates
   (`POST /api/communication-logs/`, bench/lua/create.lua) for DURATION at 32 connections
   (`wrk -t2 -c32 --latency`); the processing jobs they queued are then deleted so their backlog
   does not load the reads. Then reads for DURATION each: one log by id cycling through 500 of
   those created (bench/lua/detail.lua), and a search for a word every log holds, first page
   (bench/lua/search_rare.lua with BENCH_SEARCH_TERM=renewal). Requests/s, p50 and p99 per
   scenario; the ratio on/off is what to compare (one machine, one run).
2. Erasure of one contact with SUBJECT_LOGS logs (encryption off): `commlog seed` writes them,
   SQL makes them the contact's, then `POST /api/subject-requests/erasures/` by a compliance
   officer; the request is polled every second until `completed`. Time from request to
   completion and logs purged a second; then a check that none of the contact's logs keeps any
   content and that the contact is gone.
3. The same erasure with encryption on, for ENC_SUBJECT_LOGS logs made through the API
   (bench/lua/create_for_contact.lua; bulk seeding writes clear text and is refused then).

Writes bench/out/compliance.json and prints a table. Settings: DURATION (20s), PORT (18098),
SUBJECT_LOGS (100000), ENC_SUBJECT_LOGS (20000), BIN (default $CARGO_TARGET_DIR/release/commlog).
Python 3.11 standard library, psql and wrk.
"""

import json
import os
import subprocess
import time

import harness
from harness import OUT, log, parse_wrk, psql

DURATION = os.environ.get("DURATION", "20s")
PORT = int(os.environ.get("PORT", "18098"))
SUBJECT_LOGS = int(os.environ.get("SUBJECT_LOGS", "100000"))
ENC_SUBJECT_LOGS = int(os.environ.get("ENC_SUBJECT_LOGS", "20000"))
if os.environ.get("BIN"):
    harness.BIN = os.environ["BIN"]
BIN = harness.BIN
DB = "commlog_bench_compliance"
EMAIL = "admin@compliance.bench.example"
PASSWORD = "Bench-Passw0rd-2026"
LUA = os.path.join(harness.REPO, "bench", "lua")
WRK = ["wrk", "-t2", "-c32", f"-d{DURATION}", "--latency", "--timeout", "30s"]


def wrk(name, script, env):
    out = subprocess.run(WRK + ["-s", os.path.join(LUA, script), f"http://127.0.0.1:{PORT}"],
                         env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    with open(os.path.join(OUT, f"compliance-{name}.txt"), "w") as f:
        f.write(out)
    r = parse_wrk(out)
    log(f"{name}: {r['rps']:.1f} req/s, p50 {r['p50']}, p99 {r['p99']}, non-2xx {r['non2xx']}")
    return r


def start(encrypted, data_dir, tag):
    env = harness.server_env(DB, data_dir)
    if encrypted:
        env["COMMLOG_ENCRYPT_AT_REST"] = "true"
    company = harness.fresh_database(DB, env, "Bench", EMAIL, PASSWORD)
    server = harness.Server(env, PORT, os.path.join(OUT, f"compliance-server-{tag}.log"))
    server.start()
    server.wait_for("/readyz")
    return env, company, server, server.api.login(EMAIL, PASSWORD)


def officer_token(env, company, server):
    """A manager with the compliance capability, made in SQL, signed in."""
    email = "officer@compliance.bench.example"
    subprocess.run([BIN, "user", "create", "--company-id", company["company_id"], "--email", email,
                    "--password", PASSWORD, "--role", "manager"], env=env, check=True, capture_output=True)
    psql(f"UPDATE users SET is_compliance = TRUE WHERE email = '{email}'", DB)
    return server.api.login(email, PASSWORD)


def throughput(encrypted):
    tag = "on" if encrypted else "off"
    data_dir = os.path.join(OUT, f"compliance-data-{tag}")
    subprocess.run(["rm", "-rf", data_dir], check=True)
    env, company, server, token = start(encrypted, data_dir, tag)
    try:
        base = {"BENCH_TOKEN": token}
        results = {"create": wrk(f"create-{tag}", "create.lua", base)}
        psql("DELETE FROM jobs", DB)
        ids = psql(f"SELECT id FROM crm_communication_logs WHERE company_id = '{company['company_id']}' ORDER BY created_at DESC LIMIT 500", DB)
        results["detail"] = wrk(f"detail-{tag}", "detail.lua", {**base, "BENCH_LOG_IDS": ",".join(ids)})
        results["search"] = wrk(f"search-{tag}", "search_rare.lua", {**base, "BENCH_SEARCH_TERM": "renewal"})
        results["logs"] = int(psql("SELECT count(*) FROM crm_communication_logs", DB)[0])
        return results
    finally:
        server.stop()


def erase(encrypted, n):
    tag = "erase-on" if encrypted else "erase-off"
    data_dir = os.path.join(OUT, f"compliance-data-{tag}")
    subprocess.run(["rm", "-rf", data_dir], check=True)
    env, company, server, token = start(encrypted, data_dir, tag)
    try:
        cid = company["company_id"]
        status, _, contact = server.api.request("POST", "/api/contacts/", {"full_name": "Subject Person", "emails": ["subject@bench.example"]},
                                                {"Authorization": f"Bearer {token}"})
        assert status == 201, contact
        contact_id = contact["id"]
        t0 = time.monotonic()
        if encrypted:
            made = 0
            while made < n:
                wrk(f"{tag}-create", "create_for_contact.lua", {"BENCH_TOKEN": token, "BENCH_CONTACT_ID": contact_id})
                made = int(psql(f"SELECT count(*) FROM crm_communication_logs WHERE contact_id = '{contact_id}'", DB)[0])
        else:
            subprocess.run([BIN, "seed", "--company-id", cid, "--rows", str(n)], env=env, check=True, capture_output=True)
            psql(f"UPDATE crm_communication_logs SET contact_id = '{contact_id}' WHERE company_id = '{cid}'", DB)
        setup = time.monotonic() - t0
        psql("DELETE FROM jobs", DB)
        psql("VACUUM ANALYZE", DB)
        logs = int(psql(f"SELECT count(*) FROM crm_communication_logs WHERE contact_id = '{contact_id}'", DB)[0])
        log(f"{tag}: subject has {logs} logs (made in {setup:.0f} s)")
        officer = officer_token(env, company, server)
        t0 = time.monotonic()
        status, _, req = server.api.request("POST", "/api/subject-requests/erasures/", {"contact_id": contact_id, "reason": "benchmark"},
                                            {"Authorization": f"Bearer {officer}"}, timeout=600)
        accepted = time.monotonic() - t0
        assert status == 202, req
        while True:
            time.sleep(1)
            _, _, req = server.api.request("GET", f"/api/subject-requests/erasures/{req['id']}/", headers={"Authorization": f"Bearer {officer}"})
            if req["status"] != "running":
                break
        took = time.monotonic() - t0
        left = int(psql(f"SELECT count(*) FROM crm_communication_logs WHERE company_id = '{cid}' AND content <> ''", DB)[0])
        contacts = int(psql(f"SELECT count(*) FROM contacts WHERE id = '{contact_id}'", DB)[0])
        result = {"logs": logs, "status": req["status"], "accepted_s": round(accepted, 2), "seconds": round(took, 1),
                  "logs_per_s": round(logs / took, 0), "logs_with_content_left": left, "contact_left": contacts,
                  "receipt": req["receipt"]}
        log(f"{tag}: {result}")
        return result
    finally:
        server.stop()


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {"duration": DURATION}
    results["encryption_off"] = throughput(False)
    results["encryption_on"] = throughput(True)
    results["erasure_off"] = erase(False, SUBJECT_LOGS)
    results["erasure_on"] = erase(True, ENC_SUBJECT_LOGS)
    with open(os.path.join(OUT, "compliance.json"), "w") as f:
        json.dump(results, f, indent=2)
    off, on = results["encryption_off"], results["encryption_on"]
    print("\n| scenario | encryption off req/s (p50 / p99) | on req/s (p50 / p99) | on/off |")
    print("|---|---|---|---|")
    for k in ("create", "detail", "search"):
        print(f"| {k} | {off[k]['rps']:.0f} ({off[k]['p50']} / {off[k]['p99']}) | {on[k]['rps']:.0f} ({on[k]['p50']} / {on[k]['p99']}) | {on[k]['rps'] / max(off[k]['rps'], 1):.2f} |")
    for k in ("erasure_off", "erasure_on"):
        r = results[k]
        print(f"{k}: {r['logs']} logs in {r['seconds']} s ({r['logs_per_s']:.0f} logs/s), status {r['status']}, content left {r['logs_with_content_left']}, contact left {r['contact_left']}")
    harness.drop_database(DB)


if __name__ == "__main__":
    main()
