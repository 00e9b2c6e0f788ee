#!/usr/bin/env bash
# Property-based API testing of Commlog with Schemathesis, driven by the OpenAPI
# document the server itself serves (GET /api/openapi.json). Run by hand.
#
#   bash scripts/schemathesis.sh                       # build, then both passes
#   SKIP_BUILD=1 MAX_EXAMPLES=100 bash scripts/schemathesis.sh
#   SEED=123 bash scripts/schemathesis.sh              # reuse a printed seed
#
# Needs python3 and Schemathesis 4 (the `st` command), pinned in
# scripts/schemathesis-requirements.txt (the script installs it with pip when
# `st` is missing):
#   python3 -m pip install -r scripts/schemathesis-requirements.txt
#
# What it does, all on 127.0.0.1 and in a fresh temp dir (SQLite database, data
# dir, server log):
#   1. builds `commlog` (debug) unless SKIP_BUILD=1;
#   2. creates two companies, A and B, with `commlog company create`;
#   3. starts `commlog serve --bind 127.0.0.1:$PORT` (stopped on exit), signs in
#      both admins and creates a customer, a contact and a few communication
#      logs for company A through the API;
#   4. pass "a": A's admin, `--checks all` (server errors, and conformance of
#      status codes, content types, headers and bodies to the document,
#      acceptance of valid and rejection of invalid input, auth, ...);
#   5. pass "b": B's admin, `--checks not_a_server_error`, with the ids in
#      paths, filters and a body's reference fields drawn half of the time
#      from company A's resources; besides, any 2xx answer to a request of B
#      that names one of A's ids, or that shows one, is reported as a leak.
# Both passes use --continue-on-failure, so an operation keeps being fuzzed
# after its first conformance finding.
#
# Exit status: non-zero when a pass got a 5xx (ST101/ST102), a request errored
# (connection reset, e.g. by a panic, or no answer within REQUEST_TIMEOUT), the
# server died or logged a panic, the admin's session ended or the admin lost
# the admin role during the pass (the rest of it would be 401s/403s), or B got
# a 2xx naming A's data. Conformance findings of pass "a" are listed but do not
# fail the run unless STRICT=1.
#
# Environment:
#   PORT=18090          port of the server under test
#   MAX_EXAMPLES=30     Schemathesis --max-examples (test cases per operation)
#   SEED=               Schemathesis --seed (default: random, printed)
#   WORKERS=auto        Schemathesis --workers
#   REQUEST_TIMEOUT=10  seconds before a request counts as hung
#   SKIP_BUILD=1        use the binary already built
#   COMMLOG_BIN=        binary to test (default: $CARGO_TARGET_DIR/debug/commlog)
#   OUT_DIR=            reports (default: scripts/out/schemathesis)
#   STRICT=1            fail on conformance findings too
#   KEEP_TMP=1          keep the temp dir (database, server log)
#
# Reports, per pass, in $OUT_DIR/a and $OUT_DIR/b: output.txt (the console
# output, with a curl line to reproduce each failure: add
# `-H 'Authorization: Bearer <token>'` where it shows [Filtered]), junit.xml,
# report.json (machine-readable summary), run.har (every request and
# response); the server's log is $OUT_DIR/server.log. Authorization headers
# and password fields are masked in all of them.
#
# Left out of both passes: the operations that end the caller's own session
# when Schemathesis aims them at it (it feeds ids from earlier responses, such
# as the caller's own user and session ids, into later requests), which would
# turn the rest of the pass into 401s:
#   POST   /api/auth/logout
#   DELETE /api/auth/sessions/{id}/
#   POST   /api/users/{id}/sessions/revoke/
#   POST   /api/users/{id}/password/        (all the user's sessions end)
#   POST   /api/users/{id}/mfa/reset/       (all the user's sessions end)
# POST /api/auth/password stays in: without the current password it cannot
# succeed, and on success only the *other* sessions end. PATCH /api/users/{id}/
# stays in but never aims at the caller (it could deactivate or demote the
# only admin): in pass "a" it aims at a user made for it, in pass "b" at A's
# admin (B must get 404).
set -euo pipefail
shopt -s inherit_errexit

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commlog-target}"
PORT="${PORT:-18090}"
MAX_EXAMPLES="${MAX_EXAMPLES:-30}"
SEED="${SEED:-}"
WORKERS="${WORKERS:-auto}"
REQUEST_TIMEOUT="${REQUEST_TIMEOUT:-10}"
STRICT="${STRICT:-0}"
OUT_DIR="${OUT_DIR:-$REPO/scripts/out/schemathesis}"
BIN="${COMMLOG_BIN:-$CARGO_TARGET_DIR/debug/commlog}"
BASE_URL="http://127.0.0.1:$PORT"
PASSWORD='Schema-Passw0rd-1'
EMAIL_A='admin@a.schemathesis.example'
EMAIL_B='admin@b.schemathesis.example'
REQUIREMENTS="$REPO/scripts/schemathesis-requirements.txt"
EXCLUDE_PATH_REGEX='^/api/(auth/logout|auth/sessions/\{id\}/|users/\{id\}/(sessions/revoke|password|mfa/reset)/)$'

log() { echo "==> $*"; }
die() {
    echo "error: $*" >&2
    exit 1
}

case "$MAX_EXAMPLES" in '' | *[!0-9]*) die "MAX_EXAMPLES must be a whole number" ;; esac
case "$PORT" in '' | *[!0-9]*) die "PORT must be a whole number" ;; esac

# ---------------------------------------------------------------- tools
command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v curl >/dev/null 2>&1 || die "curl is required"
if ! command -v st >/dev/null 2>&1; then
    log "installing Schemathesis ($REQUIREMENTS)"
    python3 -m pip install -q -r "$REQUIREMENTS"
    hash -r
    command -v st >/dev/null 2>&1 || die "'st' is still not on PATH after installing schemathesis"
fi
ST_VERSION="$(st --version | awk '{print $NF}')"
PINNED="$(sed -n 's/^schemathesis==//p' "$REQUIREMENTS")"
[ "$ST_VERSION" = "$PINNED" ] || echo "warning: Schemathesis $ST_VERSION installed, $PINNED pinned; findings may differ" >&2
case "$ST_VERSION" in 4.*) ;; *) die "Schemathesis 4.x is required, found $ST_VERSION" ;; esac

# ---------------------------------------------------------------- setup
TMP="$(mktemp -d "${TMPDIR:-/tmp}/commlog-schemathesis.XXXXXX")"
export COMMLOG_DATABASE_URL="sqlite://$TMP/st.db"
export COMMLOG_DATA_DIR="$TMP/data"
export COMMLOG_RATE_LIMIT_PER_MINUTE=0
export COMMLOG_LOGIN_RATE_LIMIT_PER_MINUTE=0
export RUST_LOG="${RUST_LOG:-info,tower_http=debug}"
SERVER_LOG="$TMP/server.log"

SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -f "$SERVER_LOG" ] && [ -d "$OUT_DIR" ]; then
        cp "$SERVER_LOG" "$OUT_DIR/server.log" 2>/dev/null || true
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "temp dir kept: $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$OUT_DIR/a" "$OUT_DIR/b" "$OUT_DIR/server.log"
mkdir -p "$OUT_DIR" "$COMMLOG_DATA_DIR"

# Field $1 of the JSON object on stdin (or of its last line that is one).
json_field() {
    python3 -c '
import json, sys
field, doc = sys.argv[1], None
for line in sys.stdin.read().splitlines():
    line = line.strip()
    if line.startswith("{"):
        try:
            doc = json.loads(line)
        except ValueError:
            pass
if not isinstance(doc, dict) or field not in doc:
    sys.exit("no JSON object with field %r in the output" % field)
print(doc[field])
' "$1"
}

# api METHOD PATH [JSON_BODY]: prints the response body; fails on non-2xx.
# Sends $TOKEN as a bearer token when it is set.
api() {
    local args=(-sS --max-time 30 -X "$1" -H 'Accept: application/json' -w '\n%{http_code}')
    if [ -n "${TOKEN:-}" ]; then args+=(-H "Authorization: Bearer $TOKEN"); fi
    if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
    local out code
    out="$(curl "${args[@]}" "$BASE_URL$2")"
    code="${out##*$'\n'}"
    out="${out%$'\n'*}"
    case "$code" in
    2??) printf '%s\n' "$out" ;;
    *)
        echo "$1 $2 -> HTTP $code: ${out:0:500}" >&2
        return 1
        ;;
    esac
}

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "cargo build -p commlog-server"
    cargo build -p commlog-server
fi
[ -x "$BIN" ] || die "binary not found at $BIN (build it, or set COMMLOG_BIN)"

# ---------------------------------------------------------------- data
log "creating companies A and B in $COMMLOG_DATABASE_URL"
CREATED_A="$("$BIN" company create --name 'Schemathesis A' --admin-email "$EMAIL_A" --admin-password "$PASSWORD")"
CREATED_B="$("$BIN" company create --name 'Schemathesis B' --admin-email "$EMAIL_B" --admin-password "$PASSWORD")"
COMPANY_A="$(json_field company_id <<<"$CREATED_A")"
ADMIN_A="$(json_field user_id <<<"$CREATED_A")"
json_field company_id <<<"$CREATED_B" >/dev/null

# ---------------------------------------------------------------- server
if curl -s -o /dev/null --max-time 2 "$BASE_URL/livez"; then
    die "something already answers on $BASE_URL; set PORT"
fi
log "starting commlog serve on 127.0.0.1:$PORT (log: $SERVER_LOG)"
"$BIN" serve --bind "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -n 30 "$SERVER_LOG" >&2
        die "the server exited during startup"
    fi
    if api GET /livez >/dev/null 2>&1; then break; fi
    sleep 0.5
done
api GET /livez >/dev/null || die "GET /livez did not answer 200 within 60 s"

login() { api POST /api/auth/login "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | json_field access_token; }
TOKEN_A="$(login "$EMAIL_A")"
TOKEN_B="$(login "$EMAIL_B")"

log "seeding company A through the API"
TOKEN="$TOKEN_A"
CUSTOMER_A="$(api POST /api/customers/ '{"name":"Schemathesis Customer"}' | json_field id)"
CONTACT_A="$(api POST /api/contacts/ "{\"full_name\":\"Sam Example\",\"customer_id\":\"$CUSTOMER_A\"}" | json_field id)"
LOG_BODY='"communication_type":"call","channel":"phone","direction":"outbound","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:05:00Z","content":"Discussed the renewal terms in detail."'
LOGS_A=()
for extra in '' ",\"customer_id\":\"$CUSTOMER_A\"" ",\"customer_id\":\"$CUSTOMER_A\",\"contact_id\":\"$CONTACT_A\""; do
    created="$(api POST /api/communication-logs/ "{$LOG_BODY$extra}")"
    LOGS_A+=("$(json_field id <<<"$created")")
done
# The user that `PATCH /api/users/{id}/` is aimed at (see the configs below).
TARGET_A="$(api POST /api/users/ "{\"email\":\"target@a.schemathesis.example\",\"password\":\"$PASSWORD\",\"role\":\"sales_rep\"}" | json_field id)"
unset TOKEN
A_IDS=("$COMPANY_A" "$ADMIN_A" "$TARGET_A" "$CUSTOMER_A" "$CONTACT_A" "${LOGS_A[@]}")
echo "    company A: ${#A_IDS[@]} ids (company, 2 users, customer, contact, ${#LOGS_A[@]} logs)"

# ---------------------------------------------------------------- configs
# Explicit config files, so that no schemathesis.toml from the working
# directory's parents is picked up.
#
# `PATCH /api/users/{id}/` never aims at the caller: Schemathesis picks the
# caller's id up from earlier answers, and would set `is_active: false` or a
# lower role on the company's only admin, making the rest of the pass 401s or
# 403s. In pass a it aims at a user made for it, in pass b at A's admin.
pin_user_patch() { # TOML_VALUE
    printf '[[operations]]\ninclude-name = "PATCH /api/users/{id}/"\nparameters = { "path.id" = %s }\n\n' "$1"
}
CONFIG_A="$TMP/a.toml"
pin_user_patch "\"$TARGET_A\"" >"$CONFIG_A"

# Pass b: every id that B may name in a path, a filter or a reference field of
# a body is one of company A's half of the time (B must only get 4xx for them).
CONFIG_B="$TMP/b.toml"
{
    pin_user_patch "\"$ADMIN_A\""
    echo '[dictionaries.company_a_ids]'
    printf 'values = ['
    printf '"%s", ' "${A_IDS[@]}"
    printf ']\n\n[parameters]\n'
    for p in path.id path.user_id query.customer_id query.contact_id query.communication_log_id \
        query.assigned_to_user_id query.user_id query.actor_user_id query.entity_id query.team_id \
        body.customer_id body.contact_id body.assigned_to_user_id body.follow_up_assigned_to \
        body.team_id body.user_id body.parent_category_id body.communication_log_id; do
        echo "\"$p\" = { dictionary = \"company_a_ids\", probability = 0.5 }"
    done
} >"$CONFIG_B"

# ---------------------------------------------------------------- passes
FAILED=()

# run_pass NAME TOKEN CHECKS CONFIG
run_pass() {
    local name="$1" token="$2" checks="$3" config="$4"
    local dir="$OUT_DIR/$name"
    mkdir -p "$dir"
    # shellcheck disable=SC2054 # the commas belong to --report's value
    local args=(
        run "$BASE_URL/api/openapi.json"
        -H "Authorization: Bearer $token"
        --checks "$checks"
        --max-examples "$MAX_EXAMPLES"
        --continue-on-failure
        --workers "$WORKERS"
        --exclude-path-regex "$EXCLUDE_PATH_REGEX"
        --request-timeout "$REQUEST_TIMEOUT"
        --generation-database none
        --report junit,json,har
        --report-junit-path "$dir/junit.xml"
        --report-json-path "$dir/report.json"
        --report-har-path "$dir/run.har"
        --no-color
    )
    if [ -n "$SEED" ]; then args+=(--seed "$SEED"); fi
    log "pass $name: st run --checks $checks --max-examples $MAX_EXAMPLES (output: $dir/output.txt)"
    local rc=0
    (cd "$dir" && st --config-file "$config" "${args[@]}") >"$dir/output.txt" 2>&1 || rc=$?
    sed -n '/^=* SUMMARY =*$/,$p' "$dir/output.txt"
    echo "    st exit status: $rc"

    # Classify what the report says: server errors and errored requests fail the run.
    local verdict
    verdict="$(python3 - "$dir/report.json" "$STRICT" <<'PY'
import json, sys
path, strict = sys.argv[1], sys.argv[2] == "1"
try:
    report = json.load(open(path))
except (OSError, ValueError) as err:
    print("no usable report (%s): Schemathesis itself failed, see output.txt" % err)
    sys.exit(0)
problems = []
for f in report.get("failures", []):
    ops = f.get("operations", [])
    line = "%s %s: %d (%s)" % (f.get("code"), f.get("title"), f.get("count", 0), ", ".join(ops[:4]) + (", ..." if len(ops) > 4 else ""))
    server_error = f.get("code") in ("ST101", "ST102")
    print("    %s %s" % ("5xx " if server_error else "    ", line), file=sys.stderr)
    if server_error or strict:
        problems.append(line)
for e in report.get("errors", []):
    line = "errored: %s" % json.dumps(e)[:300]
    print("    " + line, file=sys.stderr)
    problems.append(line)
if not report.get("complete", False):
    problems.append("run incomplete: %s" % report.get("stop_reason"))
for p in problems:
    print(p)
PY
)"
    if [ -n "$verdict" ]; then
        while IFS= read -r line; do FAILED+=("pass $name: $line"); done <<<"$verdict"
    fi

    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        FAILED+=("pass $name: the server died (see $OUT_DIR/server.log)")
        die "the server died during pass $name"
    fi
    # An admin whose session ended, or who lost the admin role or was
    # deactivated, during the pass only got 401s/403s from then on.
    local me
    if ! me="$(TOKEN="$token" api GET /api/auth/me 2>&1)"; then
        FAILED+=("pass $name: the admin's session ended during the run; later results are 401s ($me)")
    elif [ "$(json_field role <<<"$me")" != admin ] || [ "$(json_field is_active <<<"$me")" != True ]; then
        FAILED+=("pass $name: the admin lost the admin role or was deactivated during the run; later results are 403s ($me)")
    fi
}

run_pass a "$TOKEN_A" all "$CONFIG_A"
run_pass b "$TOKEN_B" not_a_server_error "$CONFIG_B"

# Any 2xx answer to a request of B with one of A's ids in its path or body, and
# any 2xx answer to B whose body holds one of A's ids not sent as a filter.
log "pass b: looking for company A's ids in 2xx answers to company B"
LEAKS="$(python3 - "$OUT_DIR/b/run.har" "${A_IDS[@]}" <<'PY'
import json, sys
from urllib.parse import urlsplit
har, ids = sys.argv[1], sys.argv[2:]
try:
    entries = json.load(open(har))["log"]["entries"]
except (OSError, ValueError, KeyError) as err:
    print("cannot read %s: %s" % (har, err))
    sys.exit(0)
tried = seen = 0
for e in entries:
    req, resp = e["request"], e["response"]
    path = urlsplit(req["url"]).path
    status = resp.get("status", 0)
    body = (resp.get("content") or {}).get("text") or ""
    query = urlsplit(req["url"]).query
    sent_body = (req.get("postData") or {}).get("text") or ""
    # A's id in the path or the body: B must not reach or reference A's data.
    named = [i for i in ids if i in path or i in sent_body]
    tried += bool(named)
    if not 200 <= status < 300:
        continue
    # An id sent as a filter may be echoed back (the list's "filters"); any
    # other of A's ids in the answer is A's data.
    leaked = [i for i in ids if i in body and i not in query]
    if named or leaked:
        seen += 1
        if seen <= 20:
            print("%s %s -> %d names %s" % (req["method"], req["url"], status, ", ".join(sorted(set(named + leaked)))))
print("%d requests named one of A's ids in their path or body, %d 2xx answers named A's data" % (tried, seen), file=sys.stderr)
PY
)"
if [ -n "$LEAKS" ]; then
    while IFS= read -r line; do FAILED+=("pass b leak: $line"); done <<<"$LEAKS"
fi

if grep -q 'panicked at' "$SERVER_LOG"; then
    FAILED+=("the server log has panics: $(grep -c 'panicked at' "$SERVER_LOG") (see $OUT_DIR/server.log)")
fi

echo
log "reports: $OUT_DIR"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED:"
    printf '  - %s\n' "${FAILED[@]}"
    exit 1
fi
echo "OK: no server error, crash, hang or cross-company answer"
