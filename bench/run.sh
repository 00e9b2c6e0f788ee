#!/usr/bin/env bash
# Commlog core API benchmark on PostgreSQL (run by hand, not part of CI).
#
#   bash bench/run.sh                          # 1,000,000 logs, 20 s per scenario
#   ROWS=20000 DURATION=5s bash bench/run.sh   # quick trial
#
# Recreates the database commlog_bench, seeds it, starts `commlog serve` and
# drives each scenario with wrk. Writes the table to bench/RESULTS.md and the
# raw wrk/server output to bench/out/. See bench/README.md.
set -euo pipefail
shopt -s inherit_errexit

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commlog-target}"
ROWS="${ROWS:-1000000}"
DURATION="${DURATION:-20s}"
PORT="${PORT:-18080}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
DB_NAME="commlog_bench"
export COMMLOG_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB_NAME"
# Keep per-request logging out of the measurement.
export RUST_LOG="${RUST_LOG:-warn}"

WRK_THREADS=2
WRK_CONNECTIONS=32
BASE_URL="http://127.0.0.1:$PORT"
PASSWORD="Bench-Passw0rd-2026"
BIG_EMAIL="admin@big.bench.example"
OUT="$REPO/bench/out"
LUA="$REPO/bench/lua"
RESULTS="$REPO/bench/RESULTS.md"
COMMAND="ROWS=$ROWS DURATION=$DURATION bash bench/run.sh"

log() { echo "==> $*"; }
die() {
    echo "error: $*" >&2
    exit 1
}

case "$ROWS" in
'' | *[!0-9]*) die "ROWS must be a whole number, got '$ROWS'" ;;
esac
[ "$ROWS" -ge 700 ] || die "ROWS must be at least 700"

mkdir -p "$OUT"

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v psql >/dev/null 2>&1 || die "psql is required (Debian package postgresql-client)"

if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
    log "starting PostgreSQL"
    # shellcheck disable=SC2012 # /etc/postgresql holds only version directories
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 30); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
        sleep 1
    done
    pg_isready -q -h "$PGHOST" -p "$PGPORT" || die "PostgreSQL is not reachable on $PGHOST:$PGPORT"
fi

# ---------------------------------------------------------------- helpers

# Field $1 of the JSON object on stdin (or of its last line that is one, for
# commands that print other lines too).
json_field() {
    python3 -c '
import json, sys
field = sys.argv[1]
text = sys.stdin.read()
try:
    doc = json.loads(text)
except ValueError:
    doc = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except ValueError:
                pass
if not isinstance(doc, dict):
    doc = None
if doc is None or field not in doc:
    sys.exit("no JSON object with field %r in the output" % field)
print(doc[field])
' "$1"
}

# http METHOD PATH [JSON_BODY]: prints the response body; fails on non-2xx.
# Sends the bearer token from $TOKEN when it is set.
http() {
    python3 - "$BASE_URL" "$@" <<'PY'
import os, sys, urllib.error, urllib.request
base, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(base + path, data=body, method=method)
req.add_header("Content-Type", "application/json")
req.add_header("Accept", "application/json")
if os.environ.get("TOKEN"):
    req.add_header("Authorization", "Bearer " + os.environ["TOKEN"])
try:
    with urllib.request.urlopen(req, timeout=60) as resp:
        sys.stdout.write(resp.read().decode())
except urllib.error.HTTPError as err:
    sys.exit("%s %s -> HTTP %d: %s" % (method, path, err.code, err.read().decode()[:500]))
PY
}

rss_mib() { awk -v key="$2:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
log "cargo build --release -p commlog-server"
cargo build --release -p commlog-server
BIN="$CARGO_TARGET_DIR/release/commlog"
[ -x "$BIN" ] || die "binary not found at $BIN"

# ---------------------------------------------------------------- data
BIG_ROWS=$((ROWS * 40 / 100))
SMALL_ROWS=$(((ROWS - BIG_ROWS) / 6))
LAST_SMALL_ROWS=$((ROWS - BIG_ROWS - 5 * SMALL_ROWS))
SEED_START=$SECONDS

if [ "${SKIP_SEED:-0}" = 1 ]; then
    # Re-measure on the data of the previous run (e.g. after a code change).
    log "SKIP_SEED=1: reusing database $DB_NAME"
    "$BIN" migrate
    BIG_COMPANY_ID="$(psql -X -A -t -d "$DB_NAME" -c "SELECT company_id FROM users WHERE email = '$BIG_EMAIL'")"
    [ -n "$BIG_COMPANY_ID" ] || die "no seeded database to reuse; run without SKIP_SEED first"
else
    log "recreating database $DB_NAME"
    psql -X -q -d postgres -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" \
        -c "CREATE DATABASE $DB_NAME"

    log "commlog migrate"
    "$BIN" migrate

    seed_company() { # NAME EMAIL ROWS -> prints the company id
        local created company_id
        created="$("$BIN" company create --name "$1" --admin-email "$2" --admin-password "$PASSWORD")"
        company_id="$(json_field company_id <<<"$created")"
        local t0=$SECONDS
        "$BIN" seed --company-id "$company_id" --rows "$3" >&2
        echo "    $1: $3 logs in $((SECONDS - t0)) s" >&2
        echo "$company_id"
    }

    log "seeding $ROWS logs: 1 company with $BIG_ROWS, 6 companies sharing $((ROWS - BIG_ROWS))"
    BIG_COMPANY_ID="$(seed_company "Bench Big Co" "$BIG_EMAIL" "$BIG_ROWS")"
    for i in 1 2 3 4 5 6; do
        rows=$SMALL_ROWS
        if [ "$i" = 6 ]; then rows=$LAST_SMALL_ROWS; fi
        seed_company "Bench Small Co $i" "admin@small$i.bench.example" "$rows" >/dev/null
    done
fi
SEED_SECONDS=$((SECONDS - SEED_START))

log "VACUUM ANALYZE"
psql -X -q -d "$DB_NAME" -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE"
DB_SIZE="$(psql -X -A -t -d "$DB_NAME" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
PG_VERSION="$(psql -X -A -t -d postgres -c "SHOW server_version")"

# ---------------------------------------------------------------- server
log "starting commlog serve on 127.0.0.1:$PORT"
# The load comes from one user and one address, far past the per-caller rate limits: turn them off.
# Serve as an ordinary role, as production should: row-level security then applies to every
# query, so its cost is part of the figures (a superuser would bypass it).
APP_ROLE="commlog_bench_app"
psql -X -q -d "$DB_NAME" -v ON_ERROR_STOP=1 \
    -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') THEN CREATE ROLE $APP_ROLE LOGIN; END IF; END \$\$" \
    -c "GRANT USAGE ON SCHEMA public TO $APP_ROLE" \
    -c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $APP_ROLE"
COMMLOG_DATABASE_URL="postgres://$APP_ROLE@$PGHOST:$PGPORT/$DB_NAME" \
    COMMLOG_RATE_LIMIT_PER_MINUTE=0 COMMLOG_LOGIN_RATE_LIMIT_PER_MINUTE=0 \
    "$BIN" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 60); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -n 30 "$OUT/server.log" >&2
        die "the server exited during startup (log: bench/out/server.log)"
    fi
    if http GET /livez >/dev/null 2>&1; then
        break
    fi
    sleep 0.5
done
http GET /livez >/dev/null || die "GET /livez did not answer 200 within 30 s"

TOKEN="$(http POST /api/auth/login "{\"email\":\"$BIG_EMAIL\",\"password\":\"$PASSWORD\"}" | json_field access_token)"
export TOKEN

SINCE="$(date -u -d '30 days ago' +%Y-%m-%dT00:00:00Z)"
FILTERED="$(http GET "/api/communication-logs/?channel=email&start_time_after=$SINCE&page_size=25")"
FILTERED_COUNT="$(json_field count <<<"$FILTERED")"
LOG_IDS="$(python3 -c 'import json, sys; print(",".join(str(r["id"]) for r in json.load(sys.stdin)["results"]))' <<<"$FILTERED")"
if [ -z "$LOG_IDS" ]; then
    echo "    the filtered list is empty; taking ids from the unfiltered list" >&2
    LOG_IDS="$(http GET "/api/communication-logs/?page_size=25" |
        python3 -c 'import json, sys; print(",".join(str(r["id"]) for r in json.load(sys.stdin)["results"]))')"
fi
[ -n "$LOG_IDS" ] || die "the big company has no logs to read"

# Page 2000 of 25 at the full size; scaled down so the page exists for small ROWS.
DEEP_PAGE=$((BIG_ROWS * 4 / 125))
if [ "$DEEP_PAGE" -gt 2000 ]; then DEEP_PAGE=2000; fi
if [ "$DEEP_PAGE" -lt 1 ]; then DEEP_PAGE=1; fi

export BENCH_TOKEN="$TOKEN" BENCH_LOG_IDS="$LOG_IDS" BENCH_SINCE="$SINCE" BENCH_PAGE="$DEEP_PAGE"
echo "    big company $BIG_COMPANY_ID: $FILTERED_COUNT email logs since $SINCE; deep page $DEEP_PAGE"

# ---------------------------------------------------------------- load
# name|lua script|label in the table
SCENARIOS=(
    "list_filtered|list_filtered.lua|filtered list (email, last 30 days, 25/page)"
    "list_deep_page|list_deep_page.lua|deep page (page=$DEEP_PAGE, 25/page)"
    "detail|detail.lua|detail"
    "search_rare|search_rare.lua|search rare term (quetzal)"
    "create|create.lua|create (POST)"
    "update|update.lua|update (PATCH priority)"
)

RSS_BEFORE="$(rss_mib "$SERVER_PID" VmRSS)"
TABLE="| scenario | req/s | p50 | p99 | non-2xx |
| --- | ---: | ---: | ---: | ---: |"
NOTES=""

for entry in "${SCENARIOS[@]}"; do
    IFS='|' read -r name script label <<<"$entry"
    log "$name"
    # One second with a single connection to show the first response's status.
    BENCH_CHECK=1 wrk -t1 -c1 -d1s -s "$LUA/$script" "$BASE_URL" | grep '^    check:' || true
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION" --latency -s "$LUA/$script" "$BASE_URL" \
        >"$OUT/$name.txt" 2>&1 || die "wrk failed for $name (see bench/out/$name.txt)"
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -n 30 "$OUT/server.log" >&2
        die "the server died during $name (log: bench/out/server.log)"
    fi
    rps="$(awk '$1 == "Requests/sec:" { print $2 }' "$OUT/$name.txt")"
    p50="$(awk '$1 == "50%" { print $2 }' "$OUT/$name.txt")"
    p99="$(awk '$1 == "99%" { print $2 }' "$OUT/$name.txt")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$OUT/$name.txt")"
    non2xx="${non2xx:-0}"
    errors="$(grep 'Socket errors:' "$OUT/$name.txt" | sed 's/^ *//' || true)"
    if [ -n "$errors" ]; then
        NOTES="$NOTES
- $label: $errors"
    fi
    echo "    $rps req/s, p50 $p50, p99 $p99, non-2xx $non2xx${errors:+, $errors}"
    TABLE="$TABLE
| $label | ${rps:-?} | ${p50:-?} | ${p99:-?} | $non2xx |"
done

RSS_AFTER="$(rss_mib "$SERVER_PID" VmRSS)"
RSS_PEAK="$(rss_mib "$SERVER_PID" VmHWM)"

# ---------------------------------------------------------------- report
echo
echo "$TABLE"
echo
echo "server RSS: ${RSS_BEFORE} MiB before load, ${RSS_AFTER} MiB after, peak ${RSS_PEAK} MiB"

MEM="$(awk '$1 == "MemTotal:" { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
CPU="$(awk -F': ' '$1 ~ /^model name/ { print $2; exit }' /proc/cpuinfo)"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then COMMIT="$COMMIT (with uncommitted changes)"; fi

cat >"$RESULTS" <<EOF
# Commlog benchmark results

- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
- Machine: $(nproc) CPUs (${CPU:-unknown CPU}), $MEM memory; wrk, server and PostgreSQL on the same machine
- PostgreSQL: $PG_VERSION, database \`$DB_NAME\` ($DB_SIZE after seeding)
- Rows: $ROWS logs in 7 companies: the measured company holds $BIG_ROWS, six others share the rest (seeded in $SEED_SECONDS s)
- Commit: $COMMIT
- Command: \`$COMMAND\`
- Server: connects as the ordinary role \`commlog_bench_app\`, so PostgreSQL row-level security applies to every query
- Load per scenario: \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$DURATION --latency -s bench/lua/<scenario>.lua $BASE_URL\`, as the big company's admin
- Server RSS: $RSS_BEFORE MiB before load, $RSS_AFTER MiB after, peak $RSS_PEAK MiB

$TABLE
EOF
if [ -n "$NOTES" ]; then
    printf '\nwrk socket errors (connect/read/write/timeout; a timeout is a request slower than 2 s):\n%s\n' "$NOTES" >>"$RESULTS"
fi

log "wrote bench/RESULTS.md (raw output in bench/out/)"
