#!/usr/bin/env bash
# The load benchmark.
#
# Builds the release server, starts it on the loaded database (bench/load_data.sh; loaded
# first when the database does not exist), and drives it over HTTP with wrk at each
# concurrency (default 16 and 64) for DURATION seconds after a WARMUP, for four shapes:
#   a  the 20 newest published posts of a random organization with author username (anonymous)
#   b  organization -> 10 users -> 5 posts each, random organization (platform admin)
#   c  a post by id, random id among 1M (anonymous: null unless published and public)
#   d  createPost with its audit entry, as one of 64 members (random per request)
# and measures the database ceiling with pgbench (-M prepared -c 16 -j 2 -T DURATION) on
# the minimum SQL each shape needs (bench/pgbench/*.sql).
# Prints req/s, p50, p99, errors, the server's peak RSS (VmHWM, reset per run), CPU ms per
# request of the server (/proc/PID/stat utime+stime) and of PostgreSQL (the database's
# backends, from /proc), the load generator's CPU, and the ratio to pgbench.
# Rows created by (d) are deleted at the end (posts and audit_logs above their pre-run ids).
#
# With BENCH_SQLITE_FILE (the 1M-post file of bench/load_sqlite.sh) the same shapes run
# against the server on a copy of that file instead (no pgbench ceiling; the copy, which
# (d) writes to, is deleted at the end).
#
# Usage: bench/run.sh [DB_NAME]        (default blogql_bench)
# Environment: BENCH_DURATION (20), BENCH_WARMUP (5), BENCH_CONCURRENCY ("16 64"),
#   BENCH_SHAPES ("a b c d"), BENCH_LISTEN (127.0.0.1:18080), BENCH_DB_MAX_CONNECTIONS (10),
#   BENCH_LOG (info), PGHOST/PGPORT/PGUSER, BLOGQL_BIN (a server binary to use instead of
#   building this checkout).
set -euo pipefail

DB="${1:-${BENCH_DB:-blogql_bench}}"
DURATION="${BENCH_DURATION:-20}"
WARMUP="${BENCH_WARMUP:-5}"
CONCURRENCY="${BENCH_CONCURRENCY:-16 64}"
SHAPES="${BENCH_SHAPES:-a b c d}"
LISTEN="${BENCH_LISTEN:-127.0.0.1:18080}"
POOL="${BENCH_DB_MAX_CONNECTIONS:-10}"
LOG_LEVEL="${BENCH_LOG:-info}"
SECRET="${BENCH_JWT_SECRET:-blogql-bench-secret-0123456789abcdef}"
SQLITE_FILE="${BENCH_SQLITE_FILE:-}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
START=$(date +%s)

declare -A NAME=(
    [a]="a_org_posts" [b]="b_nested" [c]="c_post" [d]="d_create_post")
declare -A TITLE=(
    [a]="(a) 20 newest published posts + author (anon)"
    [b]="(b) org -> 10 users -> 5 posts (admin)"
    [c]="(c) post by id (anon)"
    [d]="(d) createPost + audit (member)")

if pgrep -f "target/debug/deps/|rustc|cargo test" >/dev/null; then
    echo "warning: other builds or test runs are using the CPU; figures will be lower (see 'other load')"
fi
echo "== tools"
if ! command -v wrk >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v pgbench >/dev/null || { echo "pgbench is required (postgresql-client)" >&2; exit 1; }
wrk --version 2>&1 | head -1 || true

if [[ -n "$SQLITE_FILE" ]]; then
    command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
    [[ -f "$SQLITE_FILE" ]] || { echo "$SQLITE_FILE does not exist (bench/load_sqlite.sh makes it)" >&2; exit 1; }
elif ! psql -X -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    echo "== $DB does not exist: loading it"
    "$BENCH/load_data.sh" "$DB"
fi

if [[ -n "${BLOGQL_BIN:-}" ]]; then
    BIN="$BLOGQL_BIN"   # a build of another commit, for before/after figures
else
    echo "== cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
    BIN="$ROOT/target/release/blogql"
fi

WORK="$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$WORK"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "cores: $(nproc)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ -n "$SQLITE_FILE" ]]; then
        echo "sqlite: $SQLITE_FILE ($(sqlite3 --version | cut -d' ' -f1))"
        echo "posts: $(sqlite3 "$SQLITE_FILE" 'SELECT count(*) FROM posts')"
    else
        echo "postgres: $(psql -X -d "$DB" -Atc 'SHOW server_version')"
        echo "shared_buffers: $(psql -X -d "$DB" -Atc 'SHOW shared_buffers')"
        echo "posts: $(psql -X -d "$DB" -Atc 'SELECT count(*) FROM posts')"
    fi
    echo "command: $0 $*  DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY='$CONCURRENCY' POOL=$POOL LOG=$LOG_LEVEL"
} >"$WORK/env.txt"
cat "$WORK/env.txt"

echo "== tokens (platform admin, 64 members of distinct live organizations)"
"$BIN" token --platform-admin --jwt-secret "$SECRET" --ttl 2h >"$WORK/admin.token"
if [[ -n "$SQLITE_FILE" ]]; then
    sqlite3 "$SQLITE_FILE" "
        SELECT min(u.id)
        FROM users u JOIN organizations o ON o.id = u.organization_id
        WHERE u.role = 'member' AND u.is_active AND u.deleted_at IS NULL
          AND o.is_active AND o.deleted_at IS NULL
        GROUP BY u.organization_id ORDER BY u.organization_id
        LIMIT 64" >"$WORK/members.txt"
else
    psql -X -d "$DB" -At -c "
        SELECT DISTINCT ON (u.organization_id) u.id
        FROM users u JOIN organizations o ON o.id = u.organization_id
        WHERE u.role = 'member' AND u.is_active AND u.deleted_at IS NULL
          AND o.is_active AND o.deleted_at IS NULL
        ORDER BY u.organization_id, u.id
        LIMIT 64" >"$WORK/members.txt"
fi
while read -r id; do
    "$BIN" token --user "$id" --jwt-secret "$SECRET" --ttl 2h
done <"$WORK/members.txt" >"$WORK/member.tokens"

if [[ -n "$SQLITE_FILE" ]]; then
    COPY="${SQLITE_FILE%.db}.run-$$.db"
    echo "== copying $SQLITE_FILE to $COPY"
    cp "$SQLITE_FILE" "$COPY"
    URL="sqlite://$COPY"
else
    MAX_POST=$(psql -X -d "$DB" -Atc "SELECT coalesce(max(id), 0) FROM posts")
    MAX_AUDIT=$(psql -X -d "$DB" -Atc "SELECT coalesce(max(id), 0) FROM audit_logs")
    URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
fi

SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -f "$WORK/admin.token" "$WORK/member.tokens"
    if [[ -n "$SQLITE_FILE" ]]; then
        rm -f "$COPY" "$COPY-wal" "$COPY-shm"
        return
    fi
    echo "== removing the rows the benchmark created"
    # post_events first: it refers to the posts (a database older than the outbox has none).
    psql -X -q -d "$DB" -c "DELETE FROM post_events WHERE post_id > $MAX_POST" 2>/dev/null || true
    psql -X -q -d "$DB" -c "DELETE FROM audit_logs WHERE id > $MAX_AUDIT" \
        -c "DELETE FROM posts WHERE id > $MAX_POST" -c "VACUUM (ANALYZE) posts, audit_logs" || true
}
trap cleanup EXIT

echo "== starting the server ($LISTEN, pool $POOL, log level $LOG_LEVEL)"
"$BIN" --database-url "$URL" --listen "$LISTEN" \
    --jwt-secret "$SECRET" --no-migrate --db-max-connections "$POOL" --log "$LOG_LEVEL" \
    --rate-limit-per-minute 0 --rate-limit-anonymous-per-minute 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://$LISTEN/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "http://$LISTEN/readyz" >/dev/null
echo "server pid $SERVER_PID, RSS after start $(awk '/VmRSS/{print $2" "$3}' /proc/$SERVER_PID/status)"

run_wrk() { # shape concurrency duration
    wrk -t 2 -c "$2" -d "${3}s" --timeout 10s -s "$BENCH/wrk/shapes.lua" "http://$LISTEN/graphql" \
        -- "${NAME[$1]}" "$WORK/member.tokens" "$WORK/admin.token"
}

for s in $SHAPES; do
    for c in $CONCURRENCY; do
        echo "== ${TITLE[$s]}: warm-up ${WARMUP}s, then ${DURATION}s at concurrency $c"
        run_wrk "$s" "$c" "$WARMUP" >/dev/null
        out=$(python3 "$BENCH/measure.py" --db "$DB" --server-pid "$SERVER_PID" -- \
            wrk -t 2 -c "$c" -d "${DURATION}s" --timeout 10s -s "$BENCH/wrk/shapes.lua" \
            "http://$LISTEN/graphql" -- "${NAME[$s]}" "$WORK/member.tokens" "$WORK/admin.token")
        echo "$out" >"$WORK/wrk_${s}_c$c.txt"
        w=$(sed -n 's/^WRKJSON //p' <<<"$out")
        m=$(sed -n 's/^MEASUREJSON //p' <<<"$out")
        jq -c -n --arg s "$s" --argjson c "$c" --argjson w "$w" --argjson m "$m" \
            '{kind: "server", shape: $s, c: $c} + $w + $m' | tee -a "$RESULTS"
    done
    [[ -n "$SQLITE_FILE" ]] && continue  # no database ceiling to measure in-process
    echo "== ${TITLE[$s]}: pgbench -M prepared -c 16 -j 2 -T $DURATION"
    out=$(python3 "$BENCH/measure.py" --db "$DB" -- \
        pgbench -n -M prepared -f "$BENCH/pgbench/${NAME[$s]}.sql" -c 16 -j 2 -T "$DURATION" "$DB")
    echo "$out" >"$WORK/pgbench_$s.txt"
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")
    m=$(sed -n 's/^MEASUREJSON //p' <<<"$out")
    jq -c -n --arg s "$s" --argjson tps "${tps:-0}" --argjson n "${txns:-0}" --argjson f "${failed:-0}" \
        --argjson lat "${lat:-0}" --argjson m "$m" \
        '{kind: "pgbench", shape: $s, c: 16, tps: $tps, txns: $n, failed: $f, latency_avg_ms: $lat} + $m' \
        | tee -a "$RESULTS"
done

kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""

python3 - "$RESULTS" "$WORK/table.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
titles = {"a": "(a) 20 newest published posts + author, anon",
          "b": "(b) org → 10 users → 5 posts, admin",
          "c": "(c) post by id, anon",
          "d": "(d) createPost + audit, member"}
pg = {r["shape"]: r for r in rows if r["kind"] == "pgbench"}
out = ["| shape | conc. | req/s | p50 ms | p99 ms | errors | server peak RSS | server CPU ms/req | "
       "PG CPU ms/req | wrk CPU ms/req | other load (cores) | pgbench tps (c16) | PG CPU ms/txn (pgbench) | "
       "other load pgbench | ratio |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    if r["kind"] != "server":
        continue
    p = pg.get(r["shape"], {})
    n = max(r["requests"], 1)
    errors = r["graphql_errors"] + r["socket_errors"]
    tps = p.get("tps", 0)
    out.append(
        f"| {titles[r['shape']]} | {r['c']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{errors} | {r['server_vmhwm_kb'] / 1024:.1f} MiB | {r['server_cpu_ms'] / n:.3f} | "
        f"{r['pg_cpu_ms'] / n:.3f} | {r['client_cpu_ms'] / n:.3f} | {r['other_cpu_cores']:.2f} | {tps:.0f} | "
        f"{p.get('pg_cpu_ms', 0) / max(p.get('txns', 1), 1):.3f} | {p.get('other_cpu_cores', 0):.2f} | "
        f"{(r['rps'] / tps) if tps else 0:.2f} |")
text = "\n".join(out)
open(sys.argv[2], "w").write(text + "\n")
print(text)
PY
echo
echo "pgbench failed transactions: $(jq -r 'select(.kind=="pgbench") | "\(.shape)=\(.failed)"' "$RESULTS" | tr '\n' ' ')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (before: see $WORK/env.txt)"
echo "results: $WORK (results.jsonl, table.md, raw wrk/pgbench output, server.log)"
echo "== run.sh took $(( $(date +%s) - START )) s"
