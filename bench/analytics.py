#!/usr/bin/env python3
"""Analytics API benchmark on PostgreSQL (run by hand, not by CI).

    python3 bench/analytics.py                            # 1,000,000 logs, 20 s per scenario
    ROWS=10000000 GROW=1 python3 bench/analytics.py       # grow that database to 10,000,000 in SQL
    SKIP_SEED=1 python3 bench/analytics.py                # measure again on the existing data
    ROWS=20000 DURATION=5s python3 bench/analytics.py     # quick trial

What it measures, in the database `commlog_bench_analytics`:

1. Data. Without SKIP_SEED/GROW: drops and recreates the database, makes 7 companies (the
   measured one holds 40 % of ROWS, six others share the rest, as bench/run.sh) and seeds them
   with `commlog seed`. The first six are seeded with the analytics triggers on; the last one
   with the analytics insert triggers (`analytics_hourly_insert`, `analytics_open_items_insert`) disabled, and its rollup is then rebuilt with
   `commlog analytics verify --repair`: the two seeding rates show what the triggers cost a bulk
   load. With GROW=1 the existing database is grown to ROWS logs in SQL instead: each seeded log
   is copied (new id, start time moved back by a pseudo-random 0–24 h) with the triggers on, so
   they maintain the rollup. Then logs of the measured company whose content is a complaint get
   the `complaint` category (seeded logs have none), and VACUUM ANALYZE.
2. Reads. Starts `commlog serve` as the ordinary role `commlog_bench_app` (row-level security
   applies, rate limits off), logs in as the measured company's admin and drives each report
   with `wrk -t2 -c32 -d$DURATION --latency --timeout $WRK_TIMEOUT` (bench/lua/analytics_get.lua).
   Periods are whole UTC days ending at the day after the newest seeded log. Before each
   scenario it waits until the server and its queries are idle (requests wrk abandoned at the
   end of the previous scenario keep running in PostgreSQL), then one request shows the status,
   time, `source` (rollup or logs) and row count. Repeated requests for one report are answered
   from the server's report cache while the data stays unchanged; five reports are therefore
   also driven uncached (bench/lua/analytics_get_varied.lua: every request the same length of period moved back by
   a random number of hours, so
   every answer is made from the database). The table gives wrk's req/s (503s included)
   and the answered (2xx) requests a second, and the CPU other work on the machine took.
3. Writes. `POST /api/communication-logs/` (bench/lua/create.lua, every log dated the same
   minute, so every insert updates the same rollup row) with the analytics triggers on, then
   with both analytics insert triggers disabled, same duration; then with the triggers on again but
   each log dated another hour of the last 90 days (bench/lua/analytics_create_spread.lua), so
   inserts update different rollup rows. The processing jobs the creates queue are deleted after
   each run so their backlog does not load the next one.
4. Rollup check. Repairs the hours of the write runs (the logs created without the trigger are
   missing from the rollup by design), then times `commlog analytics verify` over the measured
   company's whole history, which must find no difference.

Prints the table and writes bench/out/analytics-<ROWS>.json and .md (results, sizes, rates);
bench/ANALYTICS.md is assembled from those. Raw wrk output and the server log go to bench/out/.

Settings: ROWS (1000000), DURATION (20s), PORT (18097), SKIP_SEED=1, GROW=1, GROW_JOBS (2
concurrent copy sessions, one company each), GROW_TRIGGERS=0 (copy with the rollup triggers
disabled, then rebuild each grown company's rollups with `commlog analytics verify --repair`:
several times faster than maintaining them row by row), PREPARE_ONLY=1 (make the data and stop),
BIN (the commlog binary; default
$CARGO_TARGET_DIR/release/commlog), WRK_TIMEOUT (30s), RSS_LIMIT_MIB (8192: a scenario is
stopped when the server grows past it), DROP_AFTER=1 (drop the database at the end), BENCH_DB
(the database; default commlog_bench_analytics).
Python 3.11 standard library, psql and wrk; the binary is not built here.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import harness
from harness import OUT, log, parse_wrk

ROWS = int(os.environ.get("ROWS", "1000000"))
DURATION = os.environ.get("DURATION", "20s")
PORT = int(os.environ.get("PORT", "18097"))
SKIP_SEED = os.environ.get("SKIP_SEED") == "1"
GROW = os.environ.get("GROW") == "1"
GROW_JOBS = int(os.environ.get("GROW_JOBS", "2"))
GROW_TRIGGERS = os.environ.get("GROW_TRIGGERS", "1") != "0"
PREPARE_ONLY = os.environ.get("PREPARE_ONLY") == "1"
WRK_TIMEOUT = os.environ.get("WRK_TIMEOUT", "30s")
RSS_LIMIT_MIB = float(os.environ.get("RSS_LIMIT_MIB", "8192"))
DROP_AFTER = os.environ.get("DROP_AFTER") == "1"
if os.environ.get("BIN"):
    harness.BIN = os.environ["BIN"]
BIN = harness.BIN

DB = os.environ.get("BENCH_DB", "commlog_bench_analytics")
APP_ROLE = "commlog_bench_app"
PASSWORD = "Bench-Passw0rd-2026"
BIG_EMAIL = "admin@big.bench.example"
CATEGORY = "complaint"
LUA = os.path.join(harness.REPO, "bench", "lua")
DATA_DIR = os.path.join(OUT, "analytics-data")
WRK = ["wrk", "-t2", "-c32", f"-d{DURATION}", "--latency", "--timeout", WRK_TIMEOUT]


# ---------------------------------------------------------------- database and CLI

def sql(query):
    return harness.psql(query, DB)


def scalar(query):
    rows = sql(query)
    return rows[0] if rows else None


def owner_env():
    """The CLI's environment: the database owner (postgres), so no row-level security."""
    return harness.server_env(DB, DATA_DIR)


def cli(*args):
    """Runs `commlog ARGS` as the owner; (exit code, last JSON line of stdout or None, stderr)."""
    p = subprocess.run([BIN, *args], env=owner_env(), capture_output=True, text=True)
    doc = None
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
    return p.returncode, doc, p.stderr


def cli_ok(*args):
    rc, doc, err = cli(*args)
    if rc != 0 or doc is None:
        raise RuntimeError(f"commlog {' '.join(args)} -> exit {rc}: {err[-2000:]}")
    return doc


# The triggers that keep analytics on insert: the hourly rollups and the open items.
INSERT_TRIGGERS = ("analytics_hourly_insert", "analytics_open_items_insert")


def set_insert_trigger(enabled):
    for trigger in INSERT_TRIGGERS:
        sql(f"ALTER TABLE crm_communication_logs {'ENABLE' if enabled else 'DISABLE'} TRIGGER {trigger}")


def big_company_id():
    return scalar(f"SELECT company_id FROM users WHERE email = '{BIG_EMAIL}'")


# ---------------------------------------------------------------- data

def seed(company_id, rows):
    """`commlog seed`; returns its report (inserted, seconds, rows_per_second)."""
    with open(os.path.join(OUT, "analytics-seed.log"), "a") as progress:
        p = subprocess.run([BIN, "seed", "--company-id", company_id, "--rows", str(rows)],
                           env=owner_env(), stdout=subprocess.PIPE, stderr=progress, text=True, check=True)
    return json.loads([line for line in p.stdout.splitlines() if line.startswith("{")][-1])


def seed_database():
    """Fresh database, 7 companies, ROWS seeded logs; returns what seeding took."""
    big_rows = ROWS * 40 // 100
    small = [(ROWS - big_rows) // 6] * 6
    small[5] = ROWS - big_rows - 5 * small[0]
    log(f"recreating {DB}; seeding {ROWS} logs: 1 company with {big_rows}, 6 sharing {ROWS - big_rows}")
    big = harness.fresh_database(DB, owner_env(), "Bench Big Co", BIG_EMAIL, PASSWORD)["company_id"]
    companies = [("Bench Big Co", big, big_rows)]
    for i in range(1, 7):
        c = cli_ok("company", "create", "--name", f"Bench Small Co {i}",
                   "--admin-email", f"admin@small{i}.bench.example", "--admin-password", PASSWORD)
        companies.append((f"Bench Small Co {i}", c["company_id"], small[i - 1]))
    report = {"companies": []}
    t0 = time.monotonic()
    for n, (name, cid, rows) in enumerate(companies):
        triggers = n < 6
        if not triggers:
            set_insert_trigger(False)
        try:
            r = seed(cid, rows)
        finally:
            if not triggers:
                set_insert_trigger(True)
        r.update(name=name, triggers=triggers)
        report["companies"].append(r)
        log(f"  {name}: {rows} logs in {r['seconds']:.0f} s, {r['rows_per_second']:.0f} rows/s"
            f" (analytics triggers {'on' if triggers else 'off'})")
    report["seconds"] = time.monotonic() - t0
    # The last company's rollup was not maintained: rebuild it from its logs.
    last = companies[-1][1]
    t1 = time.monotonic()
    rc, doc, err = cli("analytics", "verify", "--company-id", last, "--repair")
    report["repair_seconds"] = time.monotonic() - t1
    report["repair_exit"] = rc
    report["repair_mismatches"] = sum(len(c["mismatches"]) for c in doc["companies"]) if doc else None
    log(f"  rollup of {companies[-1][0]} rebuilt by `analytics verify --repair` in {report['repair_seconds']:.1f} s "
        f"({report['repair_mismatches']} hourly rows were missing)")
    rc, doc, err = cli("analytics", "verify", "--company-id", last)
    if rc != 0:
        raise RuntimeError(f"the rebuilt rollup still differs: {err[-1000:]}")
    return report


def copy_columns():
    """INSERT and SELECT lists copying a log with a new id, start time moved back by `s.shift`."""
    cols = sql("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
               "AND table_name = 'crm_communication_logs' AND is_generated = 'NEVER' ORDER BY ordinal_position")
    moved = {"start_time", "end_time", "created_at", "updated_at", "follow_up_date", "follow_up_completed_at"}
    exprs = []
    for c in cols:
        if c == "id":
            exprs.append("gen_random_uuid()")
        elif c in moved:
            exprs.append(f"l.{c} - s.shift")
        elif c == "source":
            exprs.append("'seed-copy'")
        elif c == "external_id":
            exprs.append("NULL")
        else:
            exprs.append(f"l.{c}")
    return ", ".join(cols), ", ".join(exprs)


def grow_company(company_id, copies, remainder, columns):
    """Copies the company's seeded logs `copies` times (plus `remainder` more), one statement a copy."""
    insert, select = columns
    for k in range(1, copies + 2):
        if k > copies and remainder == 0:
            break
        limit = "" if k <= copies else f" LIMIT {remainder}"
        shift = f"make_interval(secs => (hashtext(l.id::text || ':{k}') & 65535) * 86400.0 / 65536)"
        t0 = time.monotonic()
        sql(f"INSERT INTO crm_communication_logs ({insert}) SELECT {select} FROM crm_communication_logs l "
            f"CROSS JOIN LATERAL (SELECT {shift} AS shift) s "
            f"WHERE l.company_id = '{company_id}' AND l.source = 'seed' AND NOT l.is_deleted{limit}")
        log(f"  company {company_id}: copy {k} in {time.monotonic() - t0:.0f} s")
    return company_id


def grow_database():
    """Grows the seeded logs to ROWS by copying them in SQL, the triggers maintaining the rollup."""
    per_company = [(c, int(n)) for c, n in (r.split("\t") for r in sql(
        "SELECT company_id, count(*) FROM crm_communication_logs WHERE source = 'seed' GROUP BY 1 ORDER BY 2 DESC"))]
    seeded = sum(n for _, n in per_company)
    have = int(scalar("SELECT count(*) FROM crm_communication_logs WHERE source LIKE 'seed%'"))
    if have != seeded:
        raise RuntimeError(f"the database was grown already ({have} seeded logs, {seeded} originals)")
    if ROWS <= seeded:
        raise RuntimeError(f"GROW=1 needs ROWS above the {seeded} seeded logs")
    factor, extra = divmod(ROWS - seeded, seeded)
    columns = copy_columns()
    log(f"growing {seeded} seeded logs to {ROWS}: {factor} copies of each"
        f"{f' and {extra} more' if extra else ''}, {GROW_JOBS} sessions")
    t0 = time.monotonic()
    if not GROW_TRIGGERS:
        set_insert_trigger(False)
    try:
        copied = grow_companies(per_company, factor, extra, seeded, columns, t0)
    finally:
        if not GROW_TRIGGERS:
            set_insert_trigger(True)
    seconds = time.monotonic() - t0
    repair = None
    if not GROW_TRIGGERS:
        t1 = time.monotonic()
        for cid in copied:
            rc, _, err = cli("analytics", "verify", "--company-id", cid, "--repair")
            log(f"  rollups of company {cid} rebuilt (verify exit {rc})")
        repair = time.monotonic() - t1
    added = int(scalar("SELECT count(*) FROM crm_communication_logs WHERE source = 'seed-copy'"))
    log(f"  {added} logs added in {seconds:.0f} s, {added / seconds:.0f} rows/s"
        f"{'' if repair is None else f'; rollups rebuilt in {repair:.0f} s'}")
    return {"seeded": seeded, "added": added, "seconds": seconds, "rows_per_second": added / seconds,
            "jobs": GROW_JOBS, "triggers": GROW_TRIGGERS, "rollup_rebuild_seconds": repair}


def grow_companies(per_company, factor, extra, seeded, columns, t0):
    """Runs the copies, GROW_JOBS companies at a time; returns the companies grown."""
    with concurrent.futures.ThreadPoolExecutor(GROW_JOBS) as pool:
        # One session per company at a time: two sessions upserting the same rollup rows in
        # different orders could deadlock.
        futures = [pool.submit(grow_company, cid, factor, extra * n // seeded, columns) for cid, n in per_company]
        done = []
        for f in concurrent.futures.as_completed(futures):
            done.append(f.result())
            log(f"  company {done[-1]} done after {time.monotonic() - t0:.0f} s")
    return done


def assign_category(big):
    """Gives the measured company's complaint logs the `complaint` category (seeded logs have none)."""
    t0 = time.monotonic()
    sql(f"INSERT INTO crm_communication_log_categories (company_id, communication_log_id, category_id) "
        f"SELECT l.company_id, l.id, c.id FROM crm_communication_logs l JOIN crm_communication_categories c "
        f"ON c.company_id = l.company_id AND c.category_code = '{CATEGORY}' "
        f"WHERE l.company_id = '{big}' AND l.content LIKE 'Complaint received%' ON CONFLICT DO NOTHING")
    n = scalar(f"SELECT count(*) FROM crm_communication_log_categories WHERE company_id = '{big}'")
    log(f"{n} logs of the measured company in category {CATEGORY} ({time.monotonic() - t0:.0f} s)")
    return int(n)


def vacuum():
    t0 = time.monotonic()
    sql("VACUUM ANALYZE")
    return time.monotonic() - t0


def grant_app_role():
    """The ordinary role the server runs as (as bench/run.sh): row-level security applies."""
    sql(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') "
        f"THEN CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$")
    sql(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")


def sizes(big):
    size = "SELECT pg_size_pretty(pg_total_relation_size('{}'))"
    return {
        "logs": int(scalar("SELECT count(*) FROM crm_communication_logs")),
        "big_company_logs": int(scalar(f"SELECT count(*) FROM crm_communication_logs WHERE company_id = '{big}'")),
        "rollup_rows": int(scalar("SELECT count(*) FROM analytics_hourly")),
        "big_company_rollup_rows": int(scalar(f"SELECT count(*) FROM analytics_hourly WHERE company_id = '{big}'")),
        "logs_table": scalar(size.format("crm_communication_logs")),
        "rollup_table": scalar(size.format("analytics_hourly")),
        "database": scalar("SELECT pg_size_pretty(pg_database_size(current_database()))"),
    }


# ---------------------------------------------------------------- scenarios

def day(t):
    return t.strftime("%Y-%m-%dT00:00:00Z")


def scenarios(big):
    """(name, label, path) of each read scenario, on whole UTC days up to the newest seeded log."""
    newest = datetime.fromisoformat(scalar(
        f"SELECT to_char(max(start_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM crm_communication_logs "
        f"WHERE company_id = '{big}' AND source LIKE 'seed%'")).replace(tzinfo=timezone.utc)
    until = newest + timedelta(days=1)
    month_end = (until.replace(day=1) + timedelta(days=32)).replace(day=1) if until.day != 1 else until
    month_start = month_end.replace(year=month_end.year - 1)

    def q(since, end=until, **params):
        return "&".join([f"since={day(since)}", f"until={day(end)}"] + [f"{k}={v}" for k, v in params.items()])

    d90, d30, d7 = (q(until - timedelta(days=n), bucket="day") for n in (90, 30, 7))
    a = "/api/analytics"
    return until, [
        ("volume_90d_day_channel", "volume, 90 days, daily, by channel", f"{a}/volume/?{d90}&group_by=channel"),
        ("volume_90d_hour", "volume, 90 days, hourly", f"{a}/volume/?{q(until - timedelta(days=90), bucket='hour')}"),
        ("volume_1y_month", "volume, 12 months, monthly",
         f"{a}/volume/?{q(month_start, month_end, bucket='month')}"),
        ("channels_90d", "channels, 90 days, daily", f"{a}/channels/?{d90}"),
        ("sentiment_90d", "sentiment, 90 days, daily", f"{a}/sentiment/?{d90}"),
        ("follow_ups_90d", "follow-ups, 90 days, daily", f"{a}/follow-ups/?{d90}"),
        ("productivity_90d", "productivity, 90 days, daily", f"{a}/productivity/?{d90}"),
        ("business_90d", "business, 90 days, daily", f"{a}/business/?{d90}"),
        ("response_times_7d", "response times, 7 days, daily", f"{a}/response-times/?{d7}"),
        ("response_times_90d", "response times, 90 days, daily", f"{a}/response-times/?{d90}"),
        ("volume_30d_category", f"volume, 30 days, daily, category={CATEGORY}",
         f"{a}/volume/?{d30}&category={CATEGORY}"),
        ("counters", "counters", f"{a}/counters/"),
    ]


# Reports also measured uncached: every request asks for another period (the same length, moved
# back by one of VARIED_PERIODS whole hours), so each answer is made afresh from the database.
VARIED = ["volume_90d_day_channel", "channels_90d", "sentiment_90d", "productivity_90d", "response_times_7d"]
VARIED_PERIODS = 2000


def varied_paths(path):
    """The path with its period moved back by 0, 1, 2 … hours (same length, still in the seeded
    data), one per line in a file."""
    def moved(text, key, h):
        value = text.split(f"{key}=")[1].split("&")[0]
        t = datetime.fromisoformat(value.replace("Z", "+00:00")) - timedelta(hours=h)
        return text.replace(f"{key}={value}", f"{key}={t.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines = [moved(moved(path, "since", h), "until", h) for h in range(VARIED_PERIODS)]
    file = os.path.join(OUT, f"analytics-varied-{abs(hash(path))}.txt")
    with open(file, "w") as f:
        f.write("\n".join(lines) + "\n")
    return file


def create_body():
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    return {"communication_type": "call", "channel": "phone", "direction": "outbound",
            "start_time": iso(now - 600), "end_time": iso(now - 300),
            "content": "Benchmark call about the renewal and pricing."}


def check(api, token, method, path):
    """One request before the measured run: prints its status, time, source and rows."""
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    t0 = time.monotonic()
    status, _, body = api.request(method, path, create_body() if method == "POST" else None, auth, timeout=300)
    ms = (time.monotonic() - t0) * 1000
    source = body.get("source") if isinstance(body, dict) else None
    detail = f"source {source}, {len(body['rows'])} rows" if isinstance(body, dict) and "rows" in body else ""
    if status >= 300:
        detail = json.dumps(body)[:400]
    print(f"    check (one request, nothing else running): HTTP {status} in {ms:.0f} ms{', ' + detail if detail else ''}", flush=True)
    return {"status": status, "ms": ms, "source": source}


def rss_mib(pid, key="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_sample():
    """(busy jiffies of the machine, {pid: jiffies} of this benchmark's server and PostgreSQL processes)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    busy = sum(v) - v[3] - v[4]
    ours = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        # PostgreSQL backends read "postgres: 15/main: USER DATABASE HOST…"; those of other
        # databases (tests running meanwhile) are other work, the shared processes are ours.
        words = cmdline.split(": ", 2)[-1].split()
        other_db = comm == "postgres" and len(words) >= 3 and words[1] != DB
        if comm == "commlog" or (comm == "postgres" and not other_db):
            fields = stat[stat.rindex(")") + 2:].split()
            ours[pid] = int(fields[11]) + int(fields[12])
    return busy, ours


def run_wrk(name, script, server_pid, extra_env):
    """wrk on one scenario, the server's memory watched (stopped past RSS_LIMIT_MIB), and the CPU
    that other work on the machine took meanwhile."""
    env = dict(os.environ, **extra_env)
    out_path = os.path.join(OUT, f"analytics-{ROWS}-{name}.txt")
    peak, done, aborted = [0.0], threading.Event(), threading.Event()
    t0, (busy0, ours0) = time.monotonic(), cpu_sample()
    with open(out_path, "w") as out:
        proc = subprocess.Popen([*WRK, "-s", os.path.join(LUA, script), f"http://127.0.0.1:{PORT}"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)

        def watch():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(server_pid))
                if peak[0] > RSS_LIMIT_MIB and not aborted.is_set():
                    aborted.set()
                    os.kill(proc.pid, 9)
                time.sleep(0.25)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        watcher.join()
    seconds, (busy1, ours1) = time.monotonic() - t0, cpu_sample()
    hz = os.sysconf("SC_CLK_TCK")
    ours = sum(j - ours0.get(pid, 0) for pid, j in ours1.items()) / hz
    wrk_cpu = usage.ru_utime + usage.ru_stime
    with open(out_path) as f:
        r = parse_wrk(f.read())
    r["ok_rps"] = (r["requests"] - r["non2xx"]) / r["seconds"] if r["seconds"] else 0.0
    r.update(rss_peak_mib=round(peak[0], 1), aborted=aborted.is_set(),
             cpu_ours=round(ours / seconds, 2), cpu_wrk=round(wrk_cpu / seconds, 2),
             cpu_other=round(max(0.0, (busy1 - busy0) / hz - ours - wrk_cpu) / seconds, 2))
    if proc.returncode != 0 and not aborted.is_set():
        raise RuntimeError(f"wrk failed for {name} (see {out_path})")
    return r


def show(label, r):
    errors = f", socket errors: {r['socket_errors']}" if r.get("socket_errors") else ""
    print(f"    {r['rps']:.2f} req/s ({r['ok_rps']:.2f} 2xx/s), p50 {r['p50']}, p99 {r['p99']}, {r['requests']} requests, "
          f"non-2xx {r['non2xx']}, server RSS peak {r['rss_peak_mib']} MiB, CPU cores: server+PostgreSQL "
          f"{r['cpu_ours']}, wrk {r['cpu_wrk']}, other work {r['cpu_other']}{errors}"
          f"{' — STOPPED: server RSS over the limit' if r['aborted'] else ''}", flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(server_pid, timeout=120):
    """Seconds until the previous scenario is over: wrk stops waiting at its end, but the requests
    it leaves behind keep running (their queries up to PostgreSQL's statement timeout) and would
    load the next scenario. Waits until the server's role has no active query and the server
    idles."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        active = scalar(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{DB}' "
                        f"AND usename = '{APP_ROLE}' AND state <> 'idle'")
        before = cpu_seconds(server_pid)
        time.sleep(0.5)
        if active == "0" and cpu_seconds(server_pid) - before < 0.05:
            return time.monotonic() - t0
    raise RuntimeError(f"the server was still busy {timeout} s after the scenario")


def drain_jobs(timeout=300):
    """Deletes queued processing jobs (of the logs the write runs created); waits for running ones."""
    deleted = sql("WITH d AS (DELETE FROM jobs WHERE kind = 'process_log' AND status = 'queued' RETURNING 1) "
                  "SELECT count(*) FROM d")[0]
    t0 = time.monotonic()
    while scalar("SELECT count(*) FROM jobs WHERE status = 'running'") != "0":
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("jobs still running")
        time.sleep(0.5)
    return int(deleted)


WRITES = [
    # name, label, lua script, analytics insert trigger on
    ("create_with_analytics", "create (POST), analytics triggers on", "create.lua", True),
    ("create_without_analytics", "create (POST), analytics insert triggers disabled", "create.lua", False),
    ("create_spread_with_analytics", "create (POST) dated over 90 days, analytics triggers on",
     "analytics_create_spread.lua", True),
]


def write_runs(server, big):
    """Create throughput with the analytics insert trigger, without it, and spread over many rollup rows."""
    results = {}
    for name, label, script, enabled in WRITES:
        log(f"{name}: POST /api/communication-logs/ ({script}, analytics insert triggers {'on' if enabled else 'off'})")
        drain_jobs()
        waited = settle(server.proc.pid)
        before = int(scalar(f"SELECT count(*) FROM crm_communication_logs WHERE company_id = '{big}'"))
        if not enabled:
            set_insert_trigger(False)
        try:
            c = check(server.api, server.token, "POST", "/api/communication-logs/")
            r = run_wrk(name, script, server.proc.pid, {"BENCH_TOKEN": server.token})
            r["check"] = dict(c, settle_seconds=waited)
        finally:
            if not enabled:
                set_insert_trigger(True)
        r["created"] = int(scalar(f"SELECT count(*) FROM crm_communication_logs WHERE company_id = '{big}'")) - before
        r["jobs_deleted"] = drain_jobs()
        r.update(name=name, label=label)
        show(label, r)
        results[name] = r
    return results


# ---------------------------------------------------------------- verification

def verify(big, *extra):
    """`commlog analytics verify` on the measured company: (seconds, exit code, mismatching rows, logs missing)."""
    t0 = time.monotonic()
    rc, doc, err = cli("analytics", "verify", "--company-id", big, *extra)
    seconds = time.monotonic() - t0
    if doc is None:
        return {"seconds": seconds, "exit": rc, "error": err.strip()[-600:]}
    mismatches = [m for c in doc["companies"] for m in c["mismatches"]]
    # Rollup hours carry `logs`; open-item rows (hour "now") carry `open` and the other counts.
    hours = [m for m in mismatches if m["hour"] != "now"]
    open_items = [m for m in mismatches if m["hour"] == "now"]
    missing = sum(m["logs"]["logs"] - m["rollup"]["logs"] for m in hours)
    open_missing = sum(m["logs"]["open"] - m["rollup"]["open"] for m in open_items)
    return {"seconds": seconds, "exit": rc, "mismatching_rows": len(hours), "logs_missing": missing,
            "open_item_rows": len(open_items), "open_items_missing": open_missing}


# ---------------------------------------------------------------- report

def table(rows):
    lines = ["| scenario | req/s | 2xx/s | p50 | p99 | non-2xx | source | single request | other work (cores) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for label, r in rows:
        single = f"{r['check']['ms']:.0f} ms" if r.get("check") else "–"
        lines.append(f"| {label} | {r['rps']:.1f} | {r['ok_rps']:.1f} | {r['p50'] or '–'} | {r['p99'] or '–'} | "
                     f"{r['non2xx']} of {r['requests']} | {r.get('source') or '–'} | {single} | {r['cpu_other']} |")
    return "\n".join(lines)


def write_outputs(result):
    base = os.path.join(OUT, f"analytics-{ROWS}")
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=2)
    reads = [(s["label"], s) for s in result["reads"]]
    writes = [(r["label"], r) for r in result["writes"].values()]
    md = [f"## {ROWS:,} logs", "", f"- Command: `{result['command']}`", f"- Data: {json.dumps(result['data'])}",
          f"- Sizes: {json.dumps(result['sizes'])}", f"- Verify: {json.dumps(result['verify'])}", "",
          table(reads), "", table(writes), ""]
    notes = [f"- {label}: {r['requests']} requests; socket errors: {r['socket_errors']}"
             for label, r in reads + writes if r.get("socket_errors")]
    md += notes
    with open(base + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    log(f"wrote {base}.json and {base}.md")


# ---------------------------------------------------------------- main

def prepare_data():
    """Makes or reuses the data; returns (measured company, what it took)."""
    data = {}
    if SKIP_SEED or GROW:
        subprocess.run([BIN, "migrate"], env=owner_env(), check=True, stdout=subprocess.DEVNULL)
        big = big_company_id()
        if not big:
            raise RuntimeError(f"no seeded {DB} to reuse; run without SKIP_SEED/GROW first")
        if GROW:
            data["grow"] = grow_database()
    else:
        data["seed"] = seed_database()
        big = big_company_id()
    if not SKIP_SEED:
        data["category_logs"] = assign_category(big)
        log("VACUUM ANALYZE")
        data["vacuum_seconds"] = vacuum()
    return big, data


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(DATA_DIR, exist_ok=True)
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no commlog binary at {BIN} (set BIN or build it)")
    started = time.monotonic()
    big, data = prepare_data()
    data_sizes = sizes(big)
    log(f"data: {json.dumps(data)} {json.dumps(data_sizes)}")
    if PREPARE_ONLY:
        return
    grant_app_role()
    until, reads = scenarios(big)

    env = owner_env()
    env["COMMLOG_DATABASE_URL"] = f"postgres://{APP_ROLE}@{harness.PGHOST}:{harness.PGPORT}/{DB}"
    server = harness.Server(env, PORT, os.path.join(OUT, f"analytics-{ROWS}-server.log"))
    server.start()
    results = {"reads": [], "writes": {}}
    write_since = None
    try:
        server.wait_for("/readyz")
        server.token = server.api.login(BIG_EMAIL, PASSWORD)
        rss_before = rss_mib(server.proc.pid)
        for name, label, path in reads:
            log(f"{name}: GET {path}")
            waited = settle(server.proc.pid)
            print(f"    the previous scenario's requests took {waited:.1f} s to finish", flush=True)
            c = check(server.api, server.token, "GET", path)
            c["settle_seconds"] = waited
            r = run_wrk(name, "analytics_get.lua", server.proc.pid,
                        {"BENCH_TOKEN": server.token, "BENCH_PATH": path})
            r.update(name=name, label=label, path=path, source=c["source"], check=c)
            show(label, r)
            results["reads"].append(r)
            if name in VARIED:
                waited = settle(server.proc.pid)
                r = run_wrk(f"{name}_uncached", "analytics_get_varied.lua", server.proc.pid,
                            {"BENCH_TOKEN": server.token, "BENCH_PATHS_FILE": varied_paths(path)})
                r.update(name=f"{name}_uncached", label=f"{label}, uncached (a new period each request)",
                         path=path, source=c["source"], check=c, settle_seconds=waited)
                show(r["label"], r)
                results["reads"].append(r)
            if server.proc.poll() is not None:
                raise RuntimeError(f"the server died during {name}")
        write_since = datetime.now(timezone.utc) - timedelta(hours=2)
        results["writes"] = write_runs(server, big)
        results["rss_mib"] = {"before": round(rss_before, 1), "after": round(rss_mib(server.proc.pid), 1),
                              "peak": round(rss_mib(server.proc.pid, "VmHWM"), 1)}
    finally:
        server.stop()

    log("rollup check")
    since = write_since.strftime("%Y-%m-%dT%H:00:00Z")
    repaired = verify(big, "--since", since, "--repair")
    log(f"  hours since {since} repaired: {json.dumps(repaired)}")
    full = verify(big)
    log(f"  full verify of the measured company: {json.dumps(full)}")
    final_sizes = sizes(big)
    pg_version = harness.psql("SHOW server_version", "postgres")[0]
    command = " ".join(f"{k}={os.environ[k]}" for k in ("ROWS", "DURATION", "SKIP_SEED", "GROW", "GROW_JOBS")
                       if k in os.environ)
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": f"{command} python3 bench/analytics.py".strip(),
        "rows": ROWS, "duration": DURATION, "wrk": " ".join(WRK), "until": day(until),
        "nproc": os.cpu_count(), "postgres": pg_version, "data": data,
        "sizes": data_sizes, "sizes_after": final_sizes, "verify": {"repair_write_hours": repaired, "full": full},
        "total_seconds": time.monotonic() - started, **results,
    }
    write_outputs(result)
    if DROP_AFTER:
        harness.drop_database(DB)
    if full.get("exit") != 0:
        sys.exit("the rollup differs from the logs (see above)")


if __name__ == "__main__":
    main()
