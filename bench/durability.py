#!/usr/bin/env python3
"""Crash-durability test R1: acknowledged writes are never lost, retries never duplicate.

    python3 bench/durability.py                        # 32 clients, 60 s, SIGKILL every 10 s
    THREADS=8 DURATION=20 KILL_EVERY=5 python3 bench/durability.py

Recreates the PostgreSQL database commlog_durability, starts `commlog serve`, and
runs THREADS clients that POST communication logs with an Idempotency-Key while
the server is SIGKILLed (by PID) every KILL_EVERY seconds and restarted at once.
A 201 is an acknowledgement; a connection error, timeout or 5xx leaves the
outcome unknown, and the client retries the same key and body until it gets a
201. Afterwards every acknowledged id is read back, every key is replayed, and
the database is checked for exactly one log per key. Exits 1 on any lost or
duplicated write, 2 when the run itself fails. See bench/README.md.

Python 3.11 standard library only; needs `psql` and a PostgreSQL server that
trusts the `postgres` user on 127.0.0.1:5432 (PGHOST/PGPORT/PGUSER to change).
"""

import concurrent.futures
import http.client
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import harness
from harness import BIN, OUT, PGHOST, PGPORT, log

THREADS = int(os.environ.get("THREADS", "32"))
DURATION = float(os.environ.get("DURATION", "60"))
KILL_EVERY = float(os.environ.get("KILL_EVERY", "10"))
PORT = int(os.environ.get("PORT", "18095"))
DB_NAME = "commlog_durability"
ADMIN_EMAIL = "admin@durable.example"
ADMIN_PASSWORD = "Durable-Passw0rd-1"
SERVER_LOG = os.path.join(OUT, "durability-server.log")

REQUEST_TIMEOUT = 15.0  # seconds for one API request
READY_TIMEOUT = 60.0  # seconds a restarted server may take to answer /readyz
DRAIN_TIMEOUT = 120.0  # seconds after the load to resolve the last unknown outcomes
# Criteria of R1 (reported; the exit status depends only on loss and duplicates).
MIN_ACKS = 5000
MAX_READY_S = 3.0

# ------------------------------------------------------------------ load


API = harness.Api(PORT, REQUEST_TIMEOUT)
request, get_status = API.request, API.get_status


def psql(sql, db=DB_NAME):
    return harness.psql(sql, db)


def log_body(n):
    return harness.call_body(f"Durability test call number {n}, discussing the renewal.")


class Load:
    def __init__(self, token):
        self.auth = {"Authorization": f"Bearer {token}"}
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.stop = threading.Event()  # no new keys after this
        self.up = threading.Event()  # cleared while the server is down
        self.up.set()
        self.acks = {}  # key -> {"id", "n", "content", "body", "replayed", "attempts", "at"}
        self.unknown_keys = set()  # keys with at least one unknown outcome
        self.unknown_attempts = 0  # requests whose outcome was unknown
        self.unknown_causes = {}  # cause -> count
        self.rejected = []  # (key, status, body): definite refusals, a harness failure
        self.mismatch = []  # (key, first id, later id)
        self.unresolved = []  # (key, n) still unknown when the drain ended
        self.drain_deadline = None
        self.error = None  # set when a restart failed
        self.t_start = time.monotonic()

    def client(self):
        pending = None  # (key, n, body bytes, attempts)
        while True:
            if pending is None:
                if self.stop.is_set():
                    return
                n = next(self.counter)
                pending = (str(uuid.uuid4()), n, log_body(n), 0)
            key, n, body, attempts = pending
            if self.drain_deadline is not None and time.monotonic() > self.drain_deadline:
                with self.lock:
                    self.unresolved.append((key, n))
                return
            if not self.up.wait(timeout=READY_TIMEOUT):
                continue
            attempts += 1
            pending = (key, n, body, attempts)
            cause = None
            try:
                status, hdrs, resp = request(
                    "POST", "/api/communication-logs/", body,
                    {**self.auth, "Idempotency-Key": key})
            except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                reason = getattr(e, "reason", e)
                status, cause = None, type(reason).__name__
            if status == 201 and isinstance(resp, dict) and "id" in resp:
                with self.lock:
                    if key in self.acks and self.acks[key]["id"] != resp["id"]:
                        self.mismatch.append((key, self.acks[key]["id"], resp["id"]))
                    self.acks[key] = {
                        "id": resp["id"], "n": n, "content": json.loads(body)["content"],
                        "body": resp, "attempts": attempts, "at": time.monotonic() - self.t_start,
                        "replayed": hdrs.get("idempotent-replayed") == "true",
                    }
                pending = None
                continue
            if status is not None and status < 500 and status not in (201, 408, 429):
                with self.lock:
                    self.rejected.append((key, status, resp))
                pending = None
                continue
            # Unknown outcome: transport error, timeout, 5xx, 429 or a 201 cut short.
            cause = cause or (f"HTTP {status}" if status != 201 else "truncated 201")
            with self.lock:
                self.unknown_keys.add(key)
                self.unknown_attempts += 1
                self.unknown_causes[cause] = self.unknown_causes.get(cause, 0) + 1
            time.sleep(0.05)


def killer(server, load, t_start, kills):
    """SIGKILL the server every KILL_EVERY s during the load, restart it at once."""
    try:
        kill_loop(server, load, t_start, kills)
    except Exception as e:  # a restart that fails ends the run
        load.error = e
        load.stop.set()
        load.up.set()


def kill_loop(server, load, t_start, kills):
    k = 1
    while True:
        at = t_start + k * KILL_EVERY
        if at >= t_start + DURATION:
            return
        time.sleep(max(0.0, at - time.monotonic()))
        load.up.clear()
        pid = server.proc.pid
        t_kill = time.monotonic()
        server.kill()
        server.start()
        t_spawn = time.monotonic()
        ready = server.wait_for("/readyz", timeout=READY_TIMEOUT)
        load.up.set()
        with load.lock:
            acked = len(load.acks)
        kills.append({"at": t_kill - t_start, "pid": pid, "new_pid": server.proc.pid,
                      "ready_s": ready, "kill_to_ready_s": t_spawn + ready - t_kill})
        log(f"kill {k} at {t_kill - t_start:5.1f} s: pid {pid} SIGKILLed, pid {server.proc.pid} "
            f"ready in {ready:.3f} s ({acked} acks so far)")
        k += 1


def progress(load, t_start, done):
    while not done.wait(5):
        with load.lock:
            acked, unknown = len(load.acks), len(load.unknown_keys)
        log(f"{time.monotonic() - t_start:5.1f} s: {acked} acknowledged, {unknown} keys retried")


# ------------------------------------------------------------------ checks


def body_diff(acked, other):
    """Fields (all but `warnings`) where a later answer differs from the acknowledgement."""
    fields = (set(acked) | set(other)) - {"warnings"}
    return sorted(f for f in fields if acked.get(f) != other.get(f))


def verify_one(load, key, ack):
    """Problems with one acknowledged write: read back and replayed."""
    problems = []
    status, _, got = request("GET", f"/api/communication-logs/{ack['id']}/", headers=load.auth)
    if status != 200 or not isinstance(got, dict):
        return [("lost", key, ack["id"], f"GET -> {status}")]
    if got.get("content") != ack["content"]:
        problems.append(("lost", key, ack["id"], f"content {got.get('content')!r}"))
    for field in body_diff(ack["body"], got):
        problems.append(("changed", key, ack["id"],
                         f"GET {field}: acked {ack['body'].get(field)!r}, read {got.get(field)!r}"))
    status, hdrs, again = request("POST", "/api/communication-logs/", log_body(ack["n"]),
                                  {**load.auth, "Idempotency-Key": key})
    if status != 201 or not isinstance(again, dict) or again.get("id") != ack["id"]:
        problems.append(("duplicate", key, ack["id"],
                         f"replay -> {status} id {again.get('id') if isinstance(again, dict) else None}"))
    elif hdrs.get("idempotent-replayed") != "true":
        problems.append(("duplicate", key, ack["id"], "replay not marked Idempotent-Replayed"))
    else:
        for field in body_diff(ack["body"], again):
            problems.append(("changed", key, ack["id"],
                             f"replay {field}: acked {ack['body'].get(field)!r}, "
                             f"replayed {again.get(field)!r}"))
    return problems


def main():
    if not os.access(BIN, os.X_OK):
        print(f"error: {BIN} not found; build it with "
              f"`cargo build --release -p commlog-server` or set COMMLOG_BIN", file=sys.stderr)
        return 2
    os.makedirs(OUT, exist_ok=True)
    data_dir = tempfile.mkdtemp(prefix="commlog-durability-")
    env = harness.server_env(DB_NAME, data_dir)
    server = None
    try:
        # 1. fresh database, schema, company
        log(f"recreating database {DB_NAME} on {PGHOST}:{PGPORT}")
        company = harness.fresh_database(DB_NAME, env, "Durable", ADMIN_EMAIL, ADMIN_PASSWORD)
        log(f"company {company['company_id']}, admin {company['user_id']}; data dir {data_dir}")

        # 2. server and token
        server = harness.Server(env, PORT, SERVER_LOG)
        server.start()
        server.wait_for("/livez")
        server.wait_for("/readyz")
        load = Load(API.login(ADMIN_EMAIL, ADMIN_PASSWORD))

        # 3./4. load with kills
        log(f"load: {THREADS} clients for {DURATION:g} s, SIGKILL every {KILL_EVERY:g} s")
        kills = []
        done = threading.Event()
        t_start = load.t_start = time.monotonic()
        clients = [threading.Thread(target=load.client, daemon=True) for _ in range(THREADS)]
        for t in clients:
            t.start()
        killer_t = threading.Thread(target=killer, args=(server, load, t_start, kills), daemon=True)
        killer_t.start()
        threading.Thread(target=progress, args=(load, t_start, done), daemon=True).start()
        load.stop.wait(max(0.0, t_start + DURATION - time.monotonic()))
        load.stop.set()
        killer_t.join()
        if load.error is not None:
            raise RuntimeError(f"restart failed: {load.error}")
        load.up.set()
        load_s = time.monotonic() - t_start
        load.drain_deadline = time.monotonic() + DRAIN_TIMEOUT
        for t in clients:
            t.join()
        done.set()
        drain_s = time.monotonic() - t_start - load_s
        if server.proc.poll() is not None:
            raise RuntimeError(f"server died on its own with {server.proc.returncode}")

        # 5. checks
        acks = dict(load.acks)
        log(f"load over after {load_s:.1f} s (+{drain_s:.1f} s to resolve open keys); "
            f"checking {len(acks)} acknowledged writes")
        problems = []
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            for found in pool.map(lambda kv: verify_one(load, *kv), acks.items()):
                problems.extend(found)
        problems += [("duplicate", k, a, f"ack returned a different id {b}") for k, a, b in load.mismatch]

        company_id = company["company_id"]
        db_logs = psql(f"SELECT id, content FROM crm_communication_logs WHERE company_id = '{company_id}'")
        db_total = int(psql("SELECT count(*) FROM crm_communication_logs")[0])
        db_keys = int(psql("SELECT count(*) FROM idempotency_keys")[0])
        dup_keys = psql("SELECT idempotency_key, count(*) FROM idempotency_keys GROUP BY 1 HAVING count(*) > 1")
        dup_content = psql("SELECT content, count(*), string_agg(id::text, ',') FROM crm_communication_logs "
                           "GROUP BY 1 HAVING count(*) > 1")
        db_ids = {row.split("\t")[0] for row in db_logs}
        acked_ids = {a["id"] for a in acks.values()}
        missing = sorted(acked_ids - db_ids)
        extra = sorted(db_ids - acked_ids)
        for i in missing:
            problems.append(("lost", "-", i, "acknowledged id not in crm_communication_logs"))
        for i in extra:
            problems.append(("duplicate", "-", i, "log in the database that no acknowledgement returned"))
        if db_total != len(acks):
            problems.append(("duplicate" if db_total > len(acks) else "lost", "-", "-",
                             f"{db_total} logs for {len(acks)} acknowledged keys"))
        if db_keys != len(acks):
            problems.append(("duplicate", "-", "-", f"{db_keys} idempotency keys for {len(acks)} acknowledged"))
        for row in dup_keys:
            problems.append(("duplicate", row.split("\t")[0], "-", f"idempotency key stored {row.split(chr(9))[1]}x"))
        for row in dup_content:
            content, count, ids = row.split("\t")
            problems.append(("duplicate", "-", ids, f"{count} logs with content {content!r}"))

        # summary
        lost = [p for p in problems if p[0] in ("lost", "changed")]
        dups = [p for p in problems if p[0] == "duplicate"]
        ready = [k["ready_s"] for k in kills]
        replayed = sum(1 for a in acks.values() if a["replayed"])
        ack_after_unknown = sum(1 for k in load.unknown_keys if k in acks)
        print()
        print("R1 crash durability (SIGKILL of the app server)")
        print(f"  command                       : THREADS={THREADS} DURATION={DURATION:g} KILL_EVERY={KILL_EVERY:g} python3 bench/durability.py")
        print(f"  load                          : {THREADS} clients, {load_s:.1f} s (+{drain_s:.1f} s drain)")
        print(f"  acknowledged writes           : {len(acks)} ({len(acks) / load_s:.0f}/s)")
        print(f"  unknown-outcome requests      : {load.unknown_attempts} attempts on {len(load.unknown_keys)} keys "
              f"({', '.join(f'{c} {n}' for c, n in sorted(load.unknown_causes.items()))})")
        print(f"  retried keys acknowledged     : {ack_after_unknown} of {len(load.unknown_keys)} "
              f"({replayed} by replay of a write the crash had committed, "
              f"{ack_after_unknown - replayed} written by the retry)")
        print(f"  unresolved keys               : {len(load.unresolved)}")
        print(f"  refused requests (4xx)        : {len(load.rejected)}")
        print(f"  kills                         : {len(kills)}")
        if ready:
            print(f"  restart to /readyz 200        : max {max(ready):.3f} s, mean {statistics.mean(ready):.3f} s "
                  f"(kill to ready: max {max(k['kill_to_ready_s'] for k in kills):.3f} s)")
        print(f"  database                      : {db_total} logs, {db_keys} idempotency keys, "
              f"{len(dup_keys)} repeated keys, {len(dup_content)} repeated contents")
        print(f"  lost = 0                      : {'yes' if not lost else f'NO ({len(lost)})'}")
        print(f"  duplicates = 0                : {'yes' if not dups else f'NO ({len(dups)})'}")
        print(f"  {f'>= {MIN_ACKS} acknowledged':<30}: {'yes' if len(acks) >= MIN_ACKS else 'no'}")
        if ready:
            print(f"  {f'ready <= {MAX_READY_S:g} s after restart':<30}: {'yes' if max(ready) <= MAX_READY_S else 'no'}")
        for p in problems[:50]:
            a = acks.get(p[1])
            when = f" (acked {a['at']:.2f} s into the run, attempt {a['attempts']})" if a else ""
            print(f"  {p[0]}: key {p[1]} id {p[2]}: {p[3]}{when}")
        for key, status, body in load.rejected[:10]:
            print(f"  refused: key {key}: HTTP {status} {body}")
        for key, n in load.unresolved[:10]:
            print(f"  unresolved: key {key} (call number {n})")
        if lost or dups:
            return 1
        if load.rejected or load.unresolved:
            return 2
        return 0
    except (RuntimeError, subprocess.CalledProcessError, OSError, ValueError) as e:
        detail = getattr(e, "stderr", None)
        print(f"error: {e}{': ' + detail.strip() if detail else ''}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
        try:
            harness.drop_database(DB_NAME)
        except subprocess.CalledProcessError as e:
            print(f"warning: could not drop {DB_NAME}: {e.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
