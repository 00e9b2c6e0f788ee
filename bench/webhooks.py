#!/usr/bin/env python3
"""Webhook acknowledgement benchmark: how fast Commlog answers a provider, and how fast the job
runner turns what it acknowledged into logs.

    python3 bench/webhooks.py                      # PostgreSQL and SQLite, 200 req/s for 30 s
    ENGINES=sqlite RATE=200 DURATION=10 python3 bench/webhooks.py

For each engine: a fresh database and `commlog serve` (release build), a Twilio channel, and
signed call-status callbacks, each of a new call.

1. Open loop at RATE requests/s for DURATION s. Each request is sent at its scheduled time by a
   pool of keep-alive connections, and its latency is measured from that time (so a stall
   counts for every request it delays). Reports p50/p90/p99/max and the achieved rate.
2. The job runner's backlog: the time from the last acknowledgement until every event is a log.
3. Closed loop with wrk (2 threads, 16 connections, WRK_DURATION): the most acknowledgements a
   second the machine gives.

Writes bench/WEBHOOKS.md. Providers give up after about 3 s, so Commlog should answer in
milliseconds. Python 3.11 standard library, wrk and psql.
"""

import base64
import hashlib
import hmac
import http.client
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import harness
from harness import BIN, OUT, log

ENGINES = os.environ.get("ENGINES", "postgres,sqlite").split(",")
RATE = float(os.environ.get("RATE", "200"))
DURATION = float(os.environ.get("DURATION", "30"))
WRK_DURATION = os.environ.get("WRK_DURATION", "15s")
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
PORT = int(os.environ.get("PORT", "18090"))
TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
PASSWORD = "Bench-Passw0rd-2026"
EMAIL = "admin@webhooks.bench.example"
RESULTS = os.path.join(harness.REPO, "bench", "WEBHOOKS.md")


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def signed_callback(public_url, path, n):
    """(body, signature) of a completed-call callback for call number `n`."""
    params = [
        ("CallSid", f"CA{n:032x}"),
        ("AccountSid", ACCOUNT),
        ("From", f"+1415555{n % 10000:04d}"),
        ("To", "+14155550100"),
        ("Direction", "inbound"),
        ("CallStatus", "completed"),
        ("CallDuration", str(30 + n % 300)),
        ("SequenceNumber", "3"),
        ("Timestamp", "Tue, 24 Nov 2026 10:03:00 +0000"),
        ("CallbackSource", "call-progress-events"),
    ]
    mac = hmac.new(TOKEN.encode(), (public_url + path).encode(), hashlib.sha1)
    for k, v in sorted(params):
        mac.update((k + v).encode())
    return urllib.parse.urlencode(params), base64.b64encode(mac.digest()).decode()


def open_loop(port, path, requests):
    """Sends `requests` at RATE from CONNECTIONS keep-alive connections; returns latencies (s)
    measured from each request's scheduled time, and the statuses seen."""
    jobs = queue.Queue()
    latencies, statuses, lock = [], {}, threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            item = jobs.get()
            if item is None:
                return
            due, (body, sig) = item
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request("POST", path, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = "error"
            done = time.monotonic()
            with lock:
                latencies.append(done - due)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    start = time.monotonic() + 0.5
    for i, r in enumerate(requests):
        jobs.put((start + i / RATE, r))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return sorted(latencies), statuses, elapsed


def wrk_run(port, path, public_url, first, count, tag):
    """wrk over `count` pre-signed callbacks of new calls; returns wrk's output."""
    lines = os.path.join(OUT, f"webhooks-{tag}.txt")
    with open(lines, "w") as f:
        for n in range(first, first + count):
            body, sig = signed_callback(public_url, path, n)
            f.write(f"{sig}\t{body}\n")
    script = os.path.join(OUT, f"webhooks-{tag}.lua")
    with open(script, "w") as f:
        f.write(f"""
local threads = {{}}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  rows = {{}}
  local i = 0
  for line in io.lines("{lines}") do
    if i % 2 == id then
      local sig, body = line:match("([^\\t]+)\\t(.*)")
      table.insert(rows, {{sig, body}})
    end
    i = i + 1
  end
  n = 0
end
function request()
  n = n % #rows + 1
  local r = rows[n]
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = r[1]}}, r[2])
end
""")
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{WRK_DURATION}", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    with open(os.path.join(OUT, f"webhooks-{tag}-wrk.txt"), "w") as f:
        f.write(out)
    return out


def wrk_figures(out):
    rate = next((line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec:")), "?")
    p99 = next((line.split()[1] for line in out.splitlines() if line.strip().startswith("99%")), "?")
    non2xx = next((line.split()[-1] for line in out.splitlines() if "Non-2xx" in line), "0")
    return rate, p99, non2xx


def run_engine(engine):
    data_dir = tempfile.mkdtemp(prefix=f"commlog-webhooks-{engine}-")
    db = "commlog_webhooks"
    env = harness.server_env(db, data_dir)
    env["COMMLOG_WEBHOOK_RATE_LIMIT_PER_MINUTE"] = "0"
    if engine == "sqlite":
        env["COMMLOG_DATABASE_URL"] = f"sqlite://{data_dir}/commlog.db"
        subprocess.run([BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([BIN, "company", "create", "--name", "Webhooks", "--admin-email", EMAIL,
                        "--admin-password", PASSWORD], env=env, check=True, stdout=subprocess.DEVNULL)
    else:
        harness.fresh_database(db, env, "Webhooks", EMAIL, PASSWORD)
    server = harness.Server(env, PORT, os.path.join(OUT, f"webhooks-{engine}-server.log"))
    server.start()
    try:
        server.wait_for("/readyz")
        api = server.api
        token = api.login(EMAIL, PASSWORD)
        auth = {"Authorization": f"Bearer {token}"}
        _, _, channels = api.request("GET", "/api/channel-configurations/?channel_type=phone", headers=auth)
        channel = channels[0]["id"]
        public_url = f"http://127.0.0.1:{PORT}"
        status, _, configured = api.request(
            "PUT", f"/api/channel-configurations/{channel}/webhook/",
            {"provider": "twilio", "secret": TOKEN, "account": ACCOUNT, "public_url": public_url}, headers=auth)
        if status != 200:
            raise RuntimeError(f"configure -> {status} {configured}")
        path = configured["webhook_url"]
        total = int(RATE * DURATION)
        log(f"{engine}: {total} callbacks at {RATE:.0f}/s over {CONNECTIONS} connections")
        requests = [signed_callback(public_url, path, n) for n in range(total)]
        latencies, statuses, elapsed = open_loop(PORT, path, requests)
        acked = time.monotonic()
        while True:
            _, _, queued = api.request("GET", "/api/jobs/?status=queued&limit=1", headers=auth)
            _, _, running = api.request("GET", "/api/jobs/?status=running&limit=1", headers=auth)
            if not queued and not running:
                break
            time.sleep(0.05)
        drained = time.monotonic() - acked
        _, _, page = api.request("GET", "/api/communication-logs/?count=exact&page_size=1", headers=auth)
        logs = page["count"]
        _, _, dead = api.request("GET", "/api/jobs/?status=dead&limit=1000", headers=auth)
        log(f"{engine}: statuses {statuses}, {logs} logs, {len(dead)} dead jobs, backlog drained in {drained:.2f} s")
        wrk_out = wrk_run(PORT, path, public_url, total, 200_000, engine)
        rate, wrk_p99, non2xx = wrk_figures(wrk_out)
        log(f"{engine}: wrk {rate} req/s, p99 {wrk_p99}, non-2xx {non2xx}")
        return {
            "engine": engine, "sent": total, "statuses": statuses, "elapsed": elapsed,
            "p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
            "p99": percentile(latencies, 99), "max": latencies[-1] if latencies else float("nan"),
            "mean": statistics.fmean(latencies) if latencies else float("nan"),
            "logs": logs, "dead": len(dead), "drained": drained,
            "wrk_rate": rate, "wrk_p99": wrk_p99, "wrk_non2xx": non2xx,
        }
    finally:
        server.stop()
        if engine == "postgres":
            harness.drop_database(db)
        shutil.rmtree(data_dir, ignore_errors=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(BIN):
        log("building the release binary")
        subprocess.run(["cargo", "build", "--release", "-p", "commlog-server"], cwd=harness.REPO, check=True)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required (apt-get install wrk)")
    results = [run_engine(e) for e in ENGINES]
    ms = lambda s: f"{s * 1000:.1f}"
    lines = [
        "# Webhook acknowledgement benchmark",
        "",
        f"`python3 bench/webhooks.py` (RATE={RATE:.0f}, DURATION={DURATION:.0f}, CONNECTIONS={CONNECTIONS},"
        f" WRK_DURATION={WRK_DURATION}), {time.strftime('%Y-%m-%d')}, on this 2-core machine with the load"
        " generator on the same cores. Each request is a signed Twilio status callback of a new call.",
        "",
        "| engine | sent at 200/s | statuses | p50 ms | p90 ms | p99 ms | max ms | logs made | dead jobs | backlog drained after last ack | wrk max req/s | wrk p99 | wrk non-2xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r['sent']} in {r['elapsed']:.1f} s | {r['statuses']} | {ms(r['p50'])} | {ms(r['p90'])} |"
            f" {ms(r['p99'])} | {ms(r['max'])} | {r['logs']} | {r['dead']} | {r['drained']:.2f} s |"
            f" {r['wrk_rate']} | {r['wrk_p99']} | {r['wrk_non2xx']} |")
    lines += ["", "Latency is measured from each request's scheduled send time (open loop), so queueing"
              " behind a slow request counts. wrk is closed loop: it finds the most the machine acknowledges.", ""]
    with open(RESULTS, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
