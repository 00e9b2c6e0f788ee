#!/usr/bin/env python3
"""Web app page benchmark on PostgreSQL (run by hand, not by CI).

    python3 bench/web.py                       # 1,000,000 logs, 20 s per page
    ROWS=20000 DURATION=5s python3 bench/web.py  # quick trial
    SKIP_SEED=1 python3 bench/web.py           # measure again on the existing data

What it measures, in the database `commlog_bench_web`:

1. Data (unless SKIP_SEED): a fresh database, one company, ROWS logs seeded with `commlog seed`,
   then VACUUM ANALYZE.
2. Pages. `commlog serve` (release build, rate limits off) as the superuser; the company admin
   signs in through the API and the access token is sent as the web app's session cookie. Each
   page is fetched once first (status, size, and the scripts it loads), then driven with
   `wrk -t2 -c32 -d$DURATION --latency` (bench/lua/web_get.lua): home, the Calls list (first
   page), the Calls list filtered (inbound, logged), the Emails list, a search, and log detail pages
   cycling through 500 logs. p50/p99 are wrk's latencies at 32 connections, i.e. server time plus
   loopback.
3. JavaScript: the bytes of every `<script src>` each page loads (raw and gzip-compressed), and
   whether any inline script exists (the Content-Security-Policy forbids it).

Writes bench/out/web.json and prints a table. Settings: ROWS (1000000), DURATION (20s), PORT (18099),
SKIP_SEED=1, BIN (default $CARGO_TARGET_DIR/release/commlog). Python 3.11 standard library, psql, wrk.
"""

import gzip
import json
import os
import re
import subprocess
import time
import urllib.request

import harness
from harness import OUT, log, parse_wrk, psql

ROWS = int(os.environ.get("ROWS", "1000000"))
DURATION = os.environ.get("DURATION", "20s")
PORT = int(os.environ.get("PORT", "18099"))
SKIP_SEED = os.environ.get("SKIP_SEED") == "1"
if os.environ.get("BIN"):
    harness.BIN = os.environ["BIN"]
BIN = harness.BIN
DB = "commlog_bench_web"
EMAIL = "admin@web.bench.example"
PASSWORD = "Bench-Passw0rd-2026"
LUA = os.path.join(harness.REPO, "bench", "lua")
WRK = ["wrk", "-t2", "-c32", f"-d{DURATION}", "--latency", "--timeout", "30s"]
PAGES = [
    ("home", "/"),
    ("calls list", "/calls"),
    ("calls filtered", "/calls?direction=inbound&status=logged"),
    ("emails list", "/emails"),
    ("search", "/calls?q=renewal"),
    ("log detail", "/logs/{id}"),
]


def fetch(path, cookie):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Cookie": cookie, "Accept": "text/html"})
    with harness.OPENER.open(req, timeout=60) as resp:
        return resp.status, resp.read()


def scripts(html, cookie):
    """(raw bytes, gzip bytes, inline scripts) of the scripts a page loads."""
    raw = packed = 0
    for src in re.findall(rb'<script[^>]*\ssrc="([^"]+)"', html):
        _, body = fetch(src.decode(), cookie)
        raw += len(body)
        packed += len(gzip.compress(body, 9))
    inline = len(re.findall(rb"<script(?![^>]*\ssrc=)[^>]*>", html))
    return raw, packed, inline


def main():
    os.makedirs(OUT, exist_ok=True)
    data_dir = os.path.join(OUT, "web-data")
    env = harness.server_env(DB, data_dir)
    if not SKIP_SEED:
        company = harness.fresh_database(DB, env, "Web bench", EMAIL, PASSWORD)
        t0 = time.monotonic()
        subprocess.run([BIN, "seed", "--company-id", company["company_id"], "--rows", str(ROWS)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        log(f"seeded {ROWS} logs in {time.monotonic() - t0:.0f} s")
        psql("VACUUM ANALYZE", DB)
    count = int(psql("SELECT count(*) FROM crm_communication_logs", DB)[0])
    server = harness.Server(env, PORT, os.path.join(OUT, "web-server.log"))
    server.start()
    try:
        server.wait_for("/readyz")
        token = server.api.login(EMAIL, PASSWORD)
        cookie = f"commlog_access={token}"
        ids = psql("SELECT id FROM crm_communication_logs ORDER BY start_time DESC LIMIT 500", DB)
        results = {"logs": count, "duration": DURATION, "pages": {}}
        for name, path in PAGES:
            first = path.replace("{id}", ids[0])
            status, html = fetch(first, cookie)
            assert status == 200 and b"<main" in html, f"{name}: HTTP {status}, {html[:200]!r}"
            raw, packed, inline = scripts(html, cookie)
            env_wrk = {**os.environ, "BENCH_TOKEN": token, "BENCH_COOKIE": cookie, "BENCH_PATH": path,
                       "BENCH_LOG_IDS": ",".join(ids)}
            out = subprocess.run(WRK + ["-s", os.path.join(LUA, "web_get.lua"), f"http://127.0.0.1:{PORT}"],
                                 env=env_wrk, capture_output=True, text=True, check=True).stdout
            with open(os.path.join(OUT, f"web-{name.replace(' ', '-')}.txt"), "w") as f:
                f.write(out)
            r = parse_wrk(out)
            r.update({"path": path, "html_bytes": len(html), "js_bytes": raw, "js_gzip_bytes": packed, "inline_scripts": inline})
            results["pages"][name] = r
            log(f"{name}: {r['rps']:.0f} req/s, p50 {r['p50']}, p99 {r['p99']}, non-2xx {r['non2xx']}, "
                f"HTML {len(html)} B, JS {raw} B ({packed} B gzip), inline scripts {inline}")
    finally:
        server.stop()
    with open(os.path.join(OUT, "web.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"\n{count:,} logs, wrk -t2 -c32 -d{DURATION}\n")
    print("| page | req/s | p50 | p99 | HTML | JavaScript (gzip) |")
    print("|---|---|---|---|---|---|")
    for name, r in results["pages"].items():
        print(f"| {name} (`{r['path']}`) | {r['rps']:.0f} | {r['p50']} | {r['p99']} | {r['html_bytes']:,} B | {r['js_bytes']:,} B ({r['js_gzip_bytes']:,} B) |")


if __name__ == "__main__":
    main()
