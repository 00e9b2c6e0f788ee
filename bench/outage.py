#!/usr/bin/env python3
"""DB outage test R3: while PostgreSQL is down the API degrades cleanly, and recovers by itself.

    python3 bench/outage.py                     # 16 clients: 10 s load, 10 s outage, 10 s load
    THREADS=8 BEFORE=5 OUTAGE=5 AFTER=5 python3 bench/outage.py   # quick trial

Recreates the PostgreSQL database commlog_outage, starts `commlog serve`, and runs
THREADS clients that alternately POST a communication log (with an
Idempotency-Key) and GET a list page. After BEFORE seconds the PostgreSQL
cluster is stopped (`pg_ctlcluster ... stop -m fast`), kept down for OUTAGE
seconds and started again; the load goes on for AFTER more seconds once
`pg_isready` answers. /livez and /readyz are probed every 0.5 s throughout.

Pass criteria: while the database is down every API answer is 503 with
Retry-After (no 500 or other 5xx, no transport error, no request over 5 s) and
the p99 latency of those answers is under 1 s; /livez answers 200 and /readyz
503. Within 5 s of `pg_isready` every answer succeeds again, served by the same
server process. No acknowledged write is lost, none is stored twice. Exits 1
when a criterion fails, 2 when the run itself fails. PostgreSQL is always
started again at the end, whatever happened. See bench/README.md.

Python 3.11 standard library only; needs `psql`, `pg_isready`, `pg_ctlcluster`
(Debian postgresql-common, run as root) and a PostgreSQL server that trusts the
`postgres` user on 127.0.0.1:5432 (PGHOST/PGPORT/PGUSER to change).
"""

import collections
import concurrent.futures
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import harness
from harness import BIN, OUT, PGHOST, PGPORT, TRANSPORT_ERRORS, log

THREADS = int(os.environ.get("THREADS", "16"))
BEFORE = float(os.environ.get("BEFORE", "10"))  # seconds of normal load before the outage
OUTAGE = float(os.environ.get("OUTAGE", "10"))  # seconds PostgreSQL stays stopped
AFTER = float(os.environ.get("AFTER", "10"))  # seconds of load after PostgreSQL is back
PORT = int(os.environ.get("PORT", "18096"))
PG_CLUSTER = os.environ.get("PG_CLUSTER", "main")
DB_NAME = "commlog_outage"
ADMIN_EMAIL = "admin@outage.example"
ADMIN_PASSWORD = "Outage-Passw0rd-1"
SERVER_LOG = os.path.join(OUT, "outage-server.log")
RAW_CSV = os.path.join(OUT, "outage-requests.csv")  # every request and probe of the last run

REQUEST_TIMEOUT = 30.0  # seconds before the client gives up on one request
PROBE_EVERY = 0.5  # seconds between /livez and /readyz probes
PROBE_TIMEOUT = 5.0
DRAIN_TIMEOUT = 60.0  # seconds after the load to resolve the last unknown outcomes
PG_START_TIMEOUT = 60.0  # seconds to wait for pg_isready after a start
# Criteria of R3.
HANG_S = 5.0  # an answer slower than this is a hang
MAX_ERROR_P99_S = 1.0
MAX_RECOVERY_S = 5.0
RECOVERY_PAIRS = 3  # consecutive successful create+list pairs that mark recovery



API = harness.Api(PORT, REQUEST_TIMEOUT)
request, get_status = API.request, API.get_status


def psql(sql, db=DB_NAME):
    return harness.psql(sql, db)


def transport_cause(e):
    reason = getattr(e, "reason", e)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timeout"
    return f"transport error ({type(reason).__name__})"


# ------------------------------------------------------------------ PostgreSQL


def pg_version():
    if os.environ.get("PG_VERSION"):
        return os.environ["PG_VERSION"]
    versions = sorted(os.listdir("/etc/postgresql"))
    if len(versions) != 1:
        raise RuntimeError(f"/etc/postgresql holds {versions}; set PG_VERSION")
    return versions[0]


def pg_ctl(action, *extra):
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), PG_CLUSTER, action, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def pg_ready():
    return subprocess.run(["pg_isready", "-q", "-h", PGHOST, "-p", PGPORT],
                          stdin=subprocess.DEVNULL).returncode == 0


def wait_pg_ready(timeout, step=0.02):
    """Monotonic time when pg_isready first succeeds, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pg_ready():
            return time.monotonic()
        time.sleep(step)
    return None


def ensure_pg_running():
    """Start the cluster until pg_isready answers (a few attempts). True when it does."""
    if pg_ready():
        return True
    for attempt in range(1, 4):
        r = pg_ctl("start")
        if r.returncode != 0:
            print(f"warning: pg_ctlcluster start (attempt {attempt}) -> {r.returncode}: "
                  f"{(r.stderr or r.stdout).strip()}", file=sys.stderr)
        if wait_pg_ready(30) is not None:
            return True
    return False


# ------------------------------------------------------------------ server


def log_body(n):
    return harness.call_body(f"Outage test call {n}, discussing the renewal.")


class Timeline:
    """Monotonic instants of the outage; None until they happen."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.stop_issued = self.stop_done = self.start_issued = self.start_done = self.pg_ready = None
        self.load_end = None

    def phase(self, t):
        """Phase of an instant: before, stopping, down, starting, after."""
        if self.stop_issued is None or t < self.stop_issued:
            return "before"
        if self.stop_done is None or t < self.stop_done:
            return "stopping"
        if self.start_issued is None or t < self.start_issued:
            return "down"
        if self.pg_ready is None or t < self.pg_ready:
            return "starting"
        return "after"


PHASES = ("before", "stopping", "down", "starting", "after", "drain")


class Load:
    def __init__(self, token, timeline):
        self.auth = {"Authorization": f"Bearer {token}"}
        self.tl = timeline
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.stop = threading.Event()  # no new keys after this
        self.draining = False
        self.drain_deadline = None
        # (client, seq, kind, t_send, t_done, status or cause, retry_after, latency)
        self.records = []
        self.acks = {}  # key -> {"id", "n", "content", "attempts"}
        self.unknown_keys = set()
        self.rejected = []  # (kind, key, status, body)
        self.mismatch = []  # (key, first id, later id)
        self.unresolved = []

    def record(self, client, seq, kind, t_send, outcome, retry_after):
        t_done = time.monotonic()
        with self.lock:
            self.records.append((client, seq, kind, t_send, t_done, outcome, retry_after, t_done - t_send))

    def client(self, cid):
        pending = None  # (key, n, body, attempts)
        seq = 0
        while True:
            if pending is None:
                if self.stop.is_set():
                    return
                n = next(self.counter)
                pending = (str(uuid.uuid4()), n, log_body(n), 0)
            if self.drain_deadline is not None and time.monotonic() > self.drain_deadline:
                with self.lock:
                    self.unresolved.append(pending[:2])
                return
            key, n, body, attempts = pending
            pending = (key, n, body, attempts + 1)
            seq += 1
            failed = False
            # create
            t_send = time.monotonic()
            try:
                status, hdrs, resp = request("POST", "/api/communication-logs/", body,
                                             {**self.auth, "Idempotency-Key": key})
                outcome, retry_after = status, hdrs.get("Retry-After") is not None
            except TRANSPORT_ERRORS as e:
                status, resp, outcome, retry_after = None, None, transport_cause(e), False
            self.record(cid, seq, "create", t_send, outcome, retry_after)
            if status == 201 and isinstance(resp, dict) and "id" in resp:
                with self.lock:
                    if key in self.acks and self.acks[key]["id"] != resp["id"]:
                        self.mismatch.append((key, self.acks[key]["id"], resp["id"]))
                    self.acks[key] = {"id": resp["id"], "n": n, "attempts": attempts + 1,
                                      "content": json.loads(body)["content"]}
                pending = None
            elif status is not None and status < 500 and status not in (408, 429):
                with self.lock:
                    self.rejected.append(("create", key, status, resp))
                pending = None
                failed = True
            else:
                # 5xx, 408/429, transport error or timeout: the outcome is unknown,
                # the same key and body go out again with the next create.
                with self.lock:
                    self.unknown_keys.add(key)
                failed = True
            if self.stop.is_set() and pending is None:
                return
            if self.stop.is_set():
                # Draining: only the open key matters now.
                time.sleep(0.05)
                continue
            # list
            t_send = time.monotonic()
            try:
                status, hdrs, resp = request("GET", "/api/communication-logs/?page_size=5",
                                             headers=self.auth)
                outcome, retry_after = status, hdrs.get("Retry-After") is not None
            except TRANSPORT_ERRORS as e:
                status, resp, outcome, retry_after = None, None, transport_cause(e), False
            self.record(cid, seq, "list", t_send, outcome, retry_after)
            if status != 200:
                failed = True
                if status is not None and status < 500 and status not in (408, 429):
                    with self.lock:
                        self.rejected.append(("list", None, status, resp))
            if failed:
                time.sleep(0.05)  # no busy loop against a failing server


def prober(path, stop, results):
    """Probe `path` every PROBE_EVERY s, each probe in its own thread: a slow one delays no other."""
    lock = threading.Lock()

    def one():
        t_send = time.monotonic()
        try:
            status = request("GET", path, timeout=PROBE_TIMEOUT)[0]
        except TRANSPORT_ERRORS as e:
            status = transport_cause(e)
        t_done = time.monotonic()
        with lock:
            results.append((t_send, t_done, status, t_done - t_send))

    threads = []
    nxt = time.monotonic()
    while not stop.is_set():
        t = threading.Thread(target=one, daemon=True)
        t.start()
        threads.append(t)
        nxt += PROBE_EVERY
        stop.wait(max(0.0, nxt - time.monotonic()))
    for t in threads:
        t.join(PROBE_TIMEOUT + 1)


def progress(load, timeline, done):
    while not done.wait(2.5):
        now = time.monotonic()
        with load.lock:
            recent = [r for r in load.records if r[4] > now - 2.5]
            acked = len(load.acks)
        by = collections.Counter(str(r[5]) for r in recent)
        log(f"{now - timeline.t0:5.1f} s [{timeline.phase(now)}]: last 2.5 s "
            f"{dict(sorted(by.items()))}, {acked} acknowledged")


# ------------------------------------------------------------------ analysis


def p99(values):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-99 * len(s) // 100) - 1))]  # nearest rank


def label(outcome, retry_after):
    if outcome == 503:
        return "503+Retry-After" if retry_after else "503 without Retry-After"
    return str(outcome)


def is_success(kind, outcome):
    return outcome == (201 if kind == "create" else 200)


def recovery(records, t_ready):
    """(s to RECOVERY_PAIRS consecutive successful create+list pairs, s to the last failure) after t_ready.

    A pair is one client's create and the list that follows it; pairs are taken in the order
    they complete. Both figures are measured from t_ready (pg_isready OK)."""
    by_client = collections.defaultdict(dict)
    for client, seq, kind, t_send, t_done, outcome, _, _ in records:
        by_client[(client, seq)][kind] = (t_done, outcome)
    pairs = []
    for reqs in by_client.values():
        if "create" in reqs and "list" in reqs:
            ok = is_success("create", reqs["create"][1]) and is_success("list", reqs["list"][1])
            pairs.append((max(reqs["create"][0], reqs["list"][0]), ok))
        elif "create" in reqs and not is_success("create", reqs["create"][1]):
            pairs.append((reqs["create"][0], False))
    pairs.sort()
    first_ok = None
    run = 0
    for t_done, ok in pairs:
        if t_done < t_ready:
            continue
        run = run + 1 if ok else 0
        if run >= RECOVERY_PAIRS:
            first_ok = t_done - t_ready
            break
    last_fail = max((r[4] for r in records if r[4] >= t_ready and not is_success(r[2], r[5])),
                    default=None)
    return first_ok, None if last_fail is None else last_fail - t_ready


def verify_one(load, key, ack):
    try:
        status, _, got = request("GET", f"/api/communication-logs/{ack['id']}/", headers=load.auth)
    except TRANSPORT_ERRORS as e:
        return [(key, ack["id"], f"GET -> {transport_cause(e)}")]
    if status != 200 or not isinstance(got, dict):
        return [(key, ack["id"], f"GET -> {status}")]
    if got.get("content") != ack["content"]:
        return [(key, ack["id"], f"content {got.get('content')!r}")]
    return []


# ------------------------------------------------------------------ main


def run(env, data_dir, state):
    # 1. fresh database, schema, company
    if not pg_ready():
        raise RuntimeError(f"PostgreSQL on {PGHOST}:{PGPORT} is not accepting connections")
    pg_version()  # fail early when the cluster cannot be named
    log(f"recreating database {DB_NAME} on {PGHOST}:{PGPORT}")
    company = harness.fresh_database(DB_NAME, env, "Outage", ADMIN_EMAIL, ADMIN_PASSWORD)
    log(f"company {company['company_id']}; data dir {data_dir}")

    # 2. server and token
    server = state["server"] = harness.Server(env, PORT, SERVER_LOG)
    server.start()
    server.wait_for("/livez")
    server.wait_for("/readyz")
    pid = server.proc.pid
    token = API.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    others = psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                  f"AND datname IS DISTINCT FROM '{DB_NAME}' AND pid <> pg_backend_pid()", db="postgres")
    if others and others[0] != "0":
        log(f"note: {others[0]} other client session(s) on the cluster will see the outage")

    tl = Timeline()
    load = Load(token, tl)
    probe_stop = threading.Event()
    livez, readyz = [], []
    probes = [threading.Thread(target=prober, args=(p, probe_stop, res), daemon=True)
              for p, res in (("/livez", livez), ("/readyz", readyz))]
    clients = [threading.Thread(target=load.client, args=(i,), daemon=True) for i in range(THREADS)]
    done = threading.Event()
    log(f"load: {THREADS} clients; {BEFORE:g} s normal, PostgreSQL stopped for {OUTAGE:g} s, "
        f"{AFTER:g} s after it is back (server pid {pid})")
    for t in probes + clients:
        t.start()
    threading.Thread(target=progress, args=(load, tl, done), daemon=True).start()

    # 3. the outage
    time.sleep(max(0.0, tl.t0 + BEFORE - time.monotonic()))
    tl.stop_issued = time.monotonic()
    state["pg_stopped"] = True
    r = pg_ctl("stop", "-m", "fast")
    tl.stop_done = time.monotonic()
    if r.returncode != 0:
        raise RuntimeError(f"pg_ctlcluster stop -> {r.returncode}: {(r.stderr or r.stdout).strip()}")
    log(f"PostgreSQL stopped in {tl.stop_done - tl.stop_issued:.2f} s "
        f"({tl.stop_done - tl.t0:.1f} s into the run)")
    time.sleep(OUTAGE)
    # pg_isready is polled while pg_ctlcluster start runs: the database may accept
    # connections (and the server recover) before the command returns.
    started = []

    def start_pg():
        started.append(pg_ctl("start"))
        tl.start_done = time.monotonic()

    tl.start_issued = time.monotonic()
    starter = threading.Thread(target=start_pg, daemon=True)
    starter.start()
    tl.pg_ready = wait_pg_ready(PG_START_TIMEOUT)
    starter.join(PG_START_TIMEOUT)
    if not started:
        raise RuntimeError("pg_ctlcluster start did not return")
    if started[0].returncode != 0:
        log(f"pg_ctlcluster start -> {started[0].returncode}: {(started[0].stderr or started[0].stdout).strip()}")
    if tl.pg_ready is None:
        raise RuntimeError("PostgreSQL did not accept connections after start")
    state["pg_stopped"] = False
    log(f"PostgreSQL started; pg_isready OK {tl.pg_ready - tl.start_issued:.2f} s after the start "
        f"was issued ({tl.pg_ready - tl.t0:.1f} s into the run), pg_ctlcluster returned after "
        f"{tl.start_done - tl.start_issued:.2f} s")

    # 4. load after recovery, then resolve open keys
    time.sleep(max(0.0, tl.pg_ready + AFTER - time.monotonic()))
    tl.load_end = time.monotonic()
    load.drain_deadline = tl.load_end + DRAIN_TIMEOUT
    load.stop.set()
    for t in clients:
        t.join()
    drain_s = time.monotonic() - tl.load_end
    probe_stop.set()
    for t in probes:
        t.join()
    done.set()
    pid_alive = server.proc.poll() is None
    listening = server.listening_pid()

    # 5. checks
    acks = dict(load.acks)
    log(f"load over; {drain_s:.1f} s to resolve open keys; checking {len(acks)} acknowledged writes")
    lost = []
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        for found in pool.map(lambda kv: verify_one(load, *kv), acks.items()):
            lost.extend(found)
    company_id = company["company_id"]
    db_ids = {row for row in psql(f"SELECT id FROM crm_communication_logs WHERE company_id = '{company_id}'")}
    db_total = int(psql("SELECT count(*) FROM crm_communication_logs")[0])
    db_keys = int(psql("SELECT count(*) FROM idempotency_keys")[0])
    dup_keys = psql("SELECT idempotency_key, count(*) FROM idempotency_keys GROUP BY 1 HAVING count(*) > 1")
    dup_content = psql("SELECT content, count(*) FROM crm_communication_logs GROUP BY 1 HAVING count(*) > 1")
    acked_ids = {a["id"] for a in acks.values()}
    lost += [("-", i, "acknowledged id not in crm_communication_logs") for i in sorted(acked_ids - db_ids)]
    dups = [f"key {k}: acknowledged as {a}, later as {b}" for k, a, b in load.mismatch]
    dups += [f"log {i} in the database that no acknowledgement returned" for i in sorted(db_ids - acked_ids)]
    if db_total != len(acks):
        dups.append(f"{db_total} logs in crm_communication_logs for {len(acks)} acknowledged keys")
    if db_keys != len(acks):
        dups.append(f"{db_keys} idempotency keys stored for {len(acks)} acknowledged keys")
    dups += [f"idempotency key {r.split(chr(9))[0]} stored {r.split(chr(9))[1]}x" for r in dup_keys]
    dups += [f"{r.split(chr(9))[1]} logs with content {r.split(chr(9))[0]!r}" for r in dup_content]

    # ---- analysis
    records = list(load.records)
    with open(RAW_CSV, "w") as f:
        f.write("what,client,seq,sent_s,answered_s,latency_s,phase,outcome,retry_after\n")
        for client, seq, kind, t_send, t_done, outcome, ra, lat in sorted(records, key=lambda r: r[3]):
            f.write(f"{kind},{client},{seq},{t_send - tl.t0:.4f},{t_done - tl.t0:.4f},{lat:.4f},"
                    f"{tl.phase(t_send)},{outcome},{int(ra)}\n")
        for path, results in (("/livez", livez), ("/readyz", readyz)):
            for t_send, t_done, status, lat in results:
                f.write(f"{path},,,{t_send - tl.t0:.4f},{t_done - tl.t0:.4f},{lat:.4f},"
                        f"{tl.phase(t_send)},{status},\n")

    def phase_of(r):
        if tl.load_end is not None and r[3] >= tl.load_end:
            return "drain"
        return tl.phase(r[3])  # by the instant the request was sent

    table = collections.defaultdict(collections.Counter)
    for r in records:
        table[phase_of(r)][label(r[5], r[6])] += 1

    # A request is "during the outage" when it was sent after the stop was issued and
    # answered before pg_isready said the database is back.
    during = [r for r in records if r[3] >= tl.stop_issued and r[4] <= tl.pg_ready]
    # Strictly down: sent after the stop completed, answered before the start was issued.
    down = [r for r in records if r[3] >= tl.stop_done and r[4] <= tl.start_issued]
    down_bad = [r for r in down if not (r[5] == 503 and r[6])]
    # Whole run: no 500 or other 5xx but 503, every 503 with Retry-After, no transport error, no hang.
    bad_5xx = [r for r in records if isinstance(r[5], int) and r[5] >= 500 and r[5] != 503]
    no_retry_after = [r for r in records if r[5] == 503 and not r[6]]
    transport = [r for r in records if not isinstance(r[5], int)]
    hangs = [r for r in records if r[7] > HANG_S or r[5] == "timeout"]
    unexpected_during = [r for r in during if not (r[5] == 503 and r[6]) and not is_success(r[2], r[5])]
    err_lat = [r[7] for r in records if isinstance(r[5], int) and r[5] >= 500]
    err_lat_during = [r[7] for r in during if isinstance(r[5], int) and r[5] >= 500]
    err_p99 = p99(err_lat)
    first_ok, all_ok = recovery(records, tl.pg_ready)
    after = [r for r in records if r[3] >= tl.pg_ready + MAX_RECOVERY_S and phase_of(r) != "drain"]
    after_fail = [r for r in after if not is_success(r[2], r[5])]

    def probes_in(results, lo, hi):
        return [p for p in results if p[0] >= lo and p[1] <= hi]

    live_down = probes_in(livez, tl.stop_done, tl.start_issued)
    ready_down = probes_in(readyz, tl.stop_done, tl.start_issued)
    live_all = collections.Counter(str(p[2]) for p in livez)
    ready_by_phase = {ph: collections.Counter(str(p[2]) for p in readyz if tl.phase(p[0]) == ph)
                      for ph in ("before", "stopping", "down", "starting", "after")}
    live_ok = bool(live_down) and all(p[2] == 200 for p in livez)
    ready_ok = bool(ready_down) and all(p[2] == 503 for p in ready_down)
    ready_back = min((p[1] for p in readyz if p[0] >= tl.pg_ready and p[2] == 200), default=None)
    same_pid = pid_alive and server.proc.pid == pid and (listening is None or listening == pid)

    criteria = [
        ("no 500 / other 5xx", not bad_5xx, f"{len(bad_5xx)}"),
        ("every 503 has Retry-After", not no_retry_after, f"{len(no_retry_after)} without"),
        ("while down: only 503+Retry-After", bool(down) and not down_bad,
         f"{len(down) - len(down_bad)} of {len(down)} answers"),
        ("outage window: only 503+RA or success", not unexpected_during,
         f"{len(unexpected_during)} other of {len(during)}"),
        ("no transport errors", not transport, f"{len(transport)}"),
        (f"no hang > {HANG_S:g} s", not hangs, f"{len(hangs)}"),
        (f"p99 error latency < {MAX_ERROR_P99_S:g} s", err_p99 is not None and err_p99 < MAX_ERROR_P99_S,
         "n/a" if err_p99 is None else f"{err_p99:.3f} s"),
        ("/livez 200 throughout", live_ok, f"{dict(live_all)}; while down {len(live_down)} probes"),
        ("/readyz 503 while down", ready_ok,
         f"{dict(collections.Counter(str(p[2]) for p in ready_down))} of {len(ready_down)} probes"),
        (f"recovery <= {MAX_RECOVERY_S:g} s ({RECOVERY_PAIRS} ok create+list pairs)",
         first_ok is not None and first_ok <= MAX_RECOVERY_S,
         "never" if first_ok is None else f"{first_ok:.3f} s"),
        (f"100 % success <= {MAX_RECOVERY_S:g} s after pg_isready",
         (all_ok is None or all_ok <= MAX_RECOVERY_S) and not after_fail,
         ("no failure after pg_isready" if all_ok is None else f"last failure answered {all_ok:.3f} s after")
         + f"; {len(after_fail)} failures sent later"),
        ("same server process", same_pid,
         f"pid {pid}, alive {pid_alive}, listening pid {listening}"),
        ("lost = 0", not lost, f"{len(lost)}"),
        ("duplicates = 0", not dups, f"{len(dups)}"),
    ]

    # ---- summary
    print()
    print("R3 DB outage degrades cleanly (PostgreSQL stopped under load)")
    print(f"  command          : THREADS={THREADS} BEFORE={BEFORE:g} OUTAGE={OUTAGE:g} AFTER={AFTER:g} "
          f"python3 bench/outage.py")
    print(f"  timeline         : stop at {tl.stop_issued - tl.t0:.2f} s (took {tl.stop_done - tl.stop_issued:.2f} s), "
          f"start at {tl.start_issued - tl.t0:.2f} s (took {tl.start_done - tl.start_issued:.2f} s), "
          f"pg_isready OK at {tl.pg_ready - tl.t0:.2f} s, load end at {tl.load_end - tl.t0:.2f} s "
          f"(+{drain_s:.1f} s drain)")
    print("  requests by phase (phase of the send instant; stopping/starting = pg_ctlcluster running):")
    for ph in PHASES:
        if table.get(ph):
            print(f"    {ph:<9}: {sum(table[ph].values()):6d}  "
                  + ", ".join(f"{k} {v}" for k, v in sorted(table[ph].items())))
    if err_lat:
        print(f"  error answers    : {len(err_lat)} (5xx); latency max {max(err_lat):.3f} s, p99 {err_p99:.3f} s; "
              f"during the outage window {len(err_lat_during)}, max "
              f"{max(err_lat_during, default=0):.3f} s, p99 {p99(err_lat_during) or 0:.3f} s")
    if err_lat:
        buckets = collections.Counter("< 0.1 s" if x < 0.1 else "0.1-1 s" if x < 1 else "1-5 s" if x <= HANG_S
                                      else f"> {HANG_S:g} s" for x in err_lat)
        print("  error latencies  : " + ", ".join(f"{k} {buckets[k]}" for k in
                                                   ("< 0.1 s", "0.1-1 s", "1-5 s", f"> {HANG_S:g} s") if buckets[k]))
    slow_down = sorted((r[7] for r in down), reverse=True)[:3]
    print(f"  while down       : {len(down)} answers, slowest {', '.join(f'{x:.3f} s' for x in slow_down)}")
    print(f"  /livez           : {dict(live_all)}; max latency {max((p[3] for p in livez), default=0):.3f} s")
    print("  /readyz by phase : " + "; ".join(f"{ph} {dict(c)}" for ph, c in ready_by_phase.items() if c)
          + f"; max latency {max((p[3] for p in readyz), default=0):.3f} s")
    print("  /readyz 200 again: " + ("never" if ready_back is None else
                                      f"{ready_back - tl.pg_ready:.3f} s after pg_isready OK"))
    print(f"  recovery         : {RECOVERY_PAIRS} consecutive ok create+list pairs "
          + ("never" if first_ok is None else f"{first_ok:.3f} s")
          + " after pg_isready OK; "
          + ("no request failed after it" if all_ok is None else
             f"last failed request answered {all_ok:.3f} s after it"))
    print(f"  acknowledged     : {len(acks)} writes; {len(load.unknown_keys)} keys had an unknown outcome and "
          f"were retried ({sum(1 for k in load.unknown_keys if k in acks)} acknowledged in the end); "
          f"{len(load.unresolved)} unresolved; {len(load.rejected)} refused (4xx)")
    print(f"  database         : {db_total} logs, {db_keys} idempotency keys, {len(dup_keys)} repeated keys")
    print("  criteria:")
    for name, ok, detail in criteria:
        print(f"    {'PASS' if ok else 'FAIL'}  {name:<48} {detail}")
    for title, rows in (("500/other 5xx", bad_5xx), ("not 503+RA while down", down_bad),
                        ("transport error", transport), ("hang", hangs)):
        for r in rows[:5]:
            print(f"  {title}: {r[2]} sent {r[3] - tl.t0:.2f} s, answered {r[4] - tl.t0:.2f} s "
                  f"({r[7]:.3f} s): {label(r[5], r[6])}")
    for key, i, why in lost[:10]:
        print(f"  lost: key {key} id {i}: {why}")
    for d in dups[:10]:
        print(f"  duplicate: {d}")
    for kind, key, status, body in load.rejected[:5]:
        print(f"  refused: {kind} key {key}: HTTP {status} {body}")
    with open(SERVER_LOG, "rb") as f:
        text = f.read().decode(errors="replace")
    panics = text.count("panicked at")
    causes = collections.Counter(
        line.split("cause=", 1)[1].strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
        if "database unavailable" in line and "cause=" in line)
    print(f"  server log       : {SERVER_LOG} ({panics} panics); 'database unavailable' causes:")
    for cause, count in causes.most_common():
        print(f"    {count:5d}  {cause}")
    print(f"  raw requests     : {RAW_CSV}")
    if load.rejected or load.unresolved:
        return 2
    return 0 if all(ok for _, ok, _ in criteria) and not panics else 1


def main():
    if not os.access(BIN, os.X_OK):
        print(f"error: {BIN} not found; build it with "
              f"`cargo build --release -p commlog-server` or set COMMLOG_BIN", file=sys.stderr)
        return 2

    # SIGTERM/SIGHUP end the run through the finally below, which restarts PostgreSQL.
    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    os.makedirs(OUT, exist_ok=True)
    data_dir = tempfile.mkdtemp(prefix="commlog-outage-")
    env = harness.server_env(DB_NAME, data_dir)
    state = {"server": None, "pg_stopped": False}
    rc = 2
    try:
        rc = run(env, data_dir, state)
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        detail = getattr(e, "stderr", None)
        print(f"error: {e}{': ' + detail.strip() if isinstance(detail, str) and detail.strip() else ''}",
              file=sys.stderr)
        rc = 2
    finally:
        # PostgreSQL first: other work on the machine needs it, and the database is dropped through it.
        pg_up = False
        try:
            pg_up = ensure_pg_running()
        finally:
            if not pg_up:
                print("error: PostgreSQL is NOT accepting connections after the run; start it with "
                      f"`pg_ctlcluster --skip-systemctl-redirect <version> {PG_CLUSTER} start`",
                      file=sys.stderr)
                rc = 2
            elif state["pg_stopped"]:
                print("==> PostgreSQL started again after an interrupted run", file=sys.stderr)
            if state["server"] is not None:
                state["server"].stop()
            if pg_up:
                try:
                    harness.drop_database(DB_NAME)
                except subprocess.CalledProcessError as e:
                    print(f"warning: could not drop {DB_NAME}: {e.stderr.strip()}", file=sys.stderr)
            shutil.rmtree(data_dir, ignore_errors=True)
            print(f"==> pg_isready -h {PGHOST}: {'accepting connections' if pg_ready() else 'NOT READY'}",
                  flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
