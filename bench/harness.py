"""What the reliability checks (durability.py, outage.py) share: a loopback HTTP client, psql,
a fresh database with a company, and one `commlog serve` under control.

Python 3.11 standard library only.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/commlog-target"))
BIN = os.environ.get("COMMLOG_BIN", os.path.join(TARGET_DIR, "release", "commlog"))
PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = os.environ.get("PGPORT", "5432")
PGUSER = os.environ.get("PGUSER", "postgres")
OUT = os.path.join(REPO, "bench", "out")

# No proxy for loopback, whatever the environment says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TRANSPORT_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)


def log(msg):
    print(f"==> {msg}", flush=True)


def db_url(db):
    return f"postgres://{PGUSER}@{PGHOST}:{PGPORT}/{db}"


class Api:
    """JSON over HTTP to the server on 127.0.0.1:`port`."""

    def __init__(self, port, timeout):
        self.base = f"http://127.0.0.1:{port}"
        self.timeout = timeout

    def request(self, method, path, body=None, headers=None, timeout=None):
        """(status, headers, parsed JSON body or None). Raises one of TRANSPORT_ERRORS on transport errors."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with OPENER.open(req, timeout=self.timeout if timeout is None else timeout) as resp:
                raw = resp.read()
                status, hdrs = resp.status, resp.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            status, hdrs = e.code, e.headers
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, hdrs, parsed

    def get_status(self, path, timeout=1.0):
        try:
            return self.request("GET", path, timeout=timeout)[0]
        except TRANSPORT_ERRORS:
            return None

    def login(self, email, password):
        status, _, resp = self.request("POST", "/api/auth/login", {"email": email, "password": password})
        if status != 200 or not resp or not resp.get("access_token"):
            raise RuntimeError(f"login -> {status} {resp}")
        return resp["access_token"]


def parse_wrk(text):
    """The figures of one wrk run's output (requests/s, p50, p99, counts, errors)."""
    def grab(pattern):
        m = re.search(pattern, text, re.M)
        return m.group(1) if m else None
    return {
        "rps": float(grab(r"^Requests/sec:\s+([\d.]+)") or 0),
        "p50": grab(r"^\s+50%\s+(\S+)"),
        "p99": grab(r"^\s+99%\s+(\S+)"),
        "requests": int(grab(r"^\s+(\d+) requests in") or 0),
        "seconds": float(grab(r"^\s+\d+ requests in ([\d.]+)s") or 0),
        "non2xx": int(grab(r"Non-2xx or 3xx responses: (\d+)") or 0),
        "socket_errors": grab(r"Socket errors: (.*)$"),
    }


def psql(sql, db):
    out = subprocess.run(
        ["psql", "-h", PGHOST, "-p", PGPORT, "-U", PGUSER, "-d", db, "-v", "ON_ERROR_STOP=1",
         "-X", "-q", "-At", "-F", "\t", "-c", sql],
        check=True, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if line != ""]


def drop_database(db):
    psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", db="postgres")


def server_env(db, data_dir):
    """The environment for `commlog` against `db`: no inherited COMMLOG_ settings, no rate limits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMLOG_")}
    env.update({
        "COMMLOG_DATABASE_URL": db_url(db),
        "COMMLOG_DATA_DIR": data_dir,
        "COMMLOG_RATE_LIMIT_PER_MINUTE": "0",
        "COMMLOG_LOGIN_RATE_LIMIT_PER_MINUTE": "0",
        "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
    })
    return env


def fresh_database(db, env, company, email, password):
    """Drops and recreates `db`, migrates it and creates a company; returns `company create`'s JSON."""
    drop_database(db)
    psql(f"CREATE DATABASE {db}", db="postgres")
    subprocess.run([BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(
        [BIN, "company", "create", "--name", company, "--admin-email", email, "--admin-password", password],
        env=env, check=True, capture_output=True, text=True).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def call_body(content):
    """A valid call log for POST /api/communication-logs/."""
    return json.dumps({
        "communication_type": "call",
        "channel": "phone",
        "direction": "outbound",
        "start_time": "2026-11-20T10:00:00Z",
        "end_time": "2026-11-20T10:05:00Z",
        "content": content,
    }).encode()


class Server:
    """One `commlog serve` at a time, on 127.0.0.1:`port`; stopped or killed by its own PID only."""

    def __init__(self, env, port, log_path):
        self.env = env
        self.port = port
        self.api = Api(port, timeout=5.0)
        self.log_path = log_path
        self.proc = None
        self.logfile = open(log_path, "wb")

    def start(self):
        self.logfile.write(f"\n===== start {time.strftime('%H:%M:%S')} =====\n".encode())
        self.logfile.flush()
        self.proc = subprocess.Popen(
            [BIN, "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=self.env, stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_for(self, path, timeout=60.0, step=0.01):
        """Seconds from now until `path` answers 200."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} (see {self.log_path})")
            if self.api.get_status(path) == 200:
                return time.monotonic() - t0
            time.sleep(step)
        raise RuntimeError(f"server not answering {path} after {timeout:.0f} s (see {self.log_path})")

    def listening_pid(self):
        """PID of the process listening on the port, per `ss`, or None."""
        try:
            out = subprocess.run(["ss", "-Hltnp", f"sport = :{self.port}"],
                                 capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for part in out.split("pid=")[1:]:
            digits = part.split(",")[0]
            if digits.isdigit():
                return int(digits)
        return None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.logfile.close()
