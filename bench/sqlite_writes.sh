#!/usr/bin/env bash
# SQLite under concurrent writes: shape (d) of bench/run.sh — createPost with its audit
# entry, as one of 64 members, at concurrency C for DURATION seconds — against a release
# server on a fresh SQLite file (WAL), after loading POSTS existing posts.
# Prints req/s, p50, p99, errors, the server's peak RSS (VmHWM) and the -wal file's size
# at the end, then checks that every post has its CREATE audit entry.
#
# Usage: bench/sqlite_writes.sh [BIN]   (default target/release/blogql)
# Environment: DURATION (60), WARMUP (5: seconds of the same load first, not measured, so
# the figures are the steady state and not the first writes on a cold cache), CONCURRENCY (16), POSTS (100000), PORT (18090), SQLITE_FILE
# (instead of a fresh file with POSTS posts: a copy of this file, the 1M-post data set of
# bench/load_sqlite.sh, with 64 members of distinct organizations writing), PRE_SQL (SQL
# run on the file before the writes, for experiments), SERVER_ARGS
# (extra server flags, e.g. "--sqlite-cache-kib 1024")
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/target/release/blogql}"
DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-5}"
CONCURRENCY="${CONCURRENCY:-16}"
POSTS="${POSTS:-100000}"
PORT="${PORT:-18090}"
SECRET=sqlite-writes-bench-secret-0123456789
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB="$WORK/bench.db"

start_server() {
    "$BIN" --database-url "sqlite://$DB" --listen "127.0.0.1:$PORT" --jwt-secret "$SECRET" \
        --rate-limit-per-minute 0 --rate-limit-anonymous-per-minute 0 --log warn ${SERVER_ARGS:-} >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 300); do curl -fs "127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
}
ADMIN=$("$BIN" token --platform-admin --jwt-secret "$SECRET")
echo "$ADMIN" >"$WORK/admin"
: >"$WORK/tokens"

if [[ -n "${SQLITE_FILE:-}" ]]; then
    # The 1M-post data set (bench/load_sqlite.sh), copied: 64 members of distinct live
    # organizations write, as in bench/run.sh.
    cp "$SQLITE_FILE" "$DB"
    # The copy's dirty pages are written back now, not by the first checkpoint's fsync.
    sync
    start_server
    sqlite3 "$DB" "SELECT u.id FROM users u JOIN organizations o ON o.id = u.organization_id
        WHERE u.role = 'member' AND u.is_active AND u.deleted_at IS NULL AND o.is_active AND o.deleted_at IS NULL
        GROUP BY u.organization_id HAVING u.id = min(u.id) ORDER BY u.organization_id LIMIT 64" |
        while read -r id; do "$BIN" token --user "$id" --jwt-secret "$SECRET" --ttl 2h; done >"$WORK/tokens"
else

    start_server
    gql() { curl -fs "127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -H "authorization: Bearer $ADMIN" -d "$1"; }
    gql '{"query":"mutation { createOrganization(input: {name: \"Bench\", slug: \"bench\"}) { id } }"}' >/dev/null
    for i in $(seq 1 64); do
        gql "{\"query\":\"mutation { createUser(input: {username: \\\"member$i\\\", email: \\\"member$i@bench.test\\\", organizationId: \\\"1\\\"}) { id } }\"}" >/dev/null
        "$BIN" token --user $((i)) --jwt-secret "$SECRET" --ttl 2h >>"$WORK/tokens"
    done
    # Existing posts, written straight into the file (the server keeps running: WAL). Older
    # servers have no slug/featured columns.
    if sqlite3 "$DB" "SELECT 1 FROM pragma_table_info('posts') WHERE name = 'slug'" | grep -q 1; then
        EXTRA_COLS=", slug, featured"; EXTRA_VALS=", 'post-' || i, 0"
    else
        EXTRA_COLS=""; EXTRA_VALS=""
    fi
    sqlite3 "$DB" "PRAGMA busy_timeout=10000; INSERT INTO posts (user_id, organization_id, title, content, status, view_count, created_at, updated_at $EXTRA_COLS)
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $POSTS)
      SELECT 1 + (i % 64), 1, 'Post ' || i, 'Body', 'published', 0, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') $EXTRA_VALS FROM n;" >/dev/null
fi
# An experiment's SQL on the file before the run (e.g. dropping the search triggers).
[[ -n "${PRE_SQL:-}" ]] && sqlite3 "$DB" "PRAGMA busy_timeout=10000; $PRE_SQL"
BEFORE=$(sqlite3 "$DB" "SELECT count(*) FROM posts")
MAX_POST=$(sqlite3 "$DB" "SELECT coalesce(max(id), 0) FROM posts")
if [[ "$WARMUP" -gt 0 ]]; then
    wrk -t 2 -c "$CONCURRENCY" -d "${WARMUP}s" -s "$ROOT/bench/wrk/shapes.lua" \
        "http://127.0.0.1:$PORT/graphql" -- d_create_post "$WORK/tokens" "$WORK/admin" >/dev/null
fi
echo 0 > "/proc/$SERVER/clear_refs" 2>/dev/null || true
wrk -t 2 -c "$CONCURRENCY" -d "${DURATION}s" --latency -s "$ROOT/bench/wrk/shapes.lua" \
    "http://127.0.0.1:$PORT/graphql" -- d_create_post "$WORK/tokens" "$WORK/admin" >"$WORK/wrk.txt"
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
WAL=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|WRKJSON" "$WORK/wrk.txt" || true
AFTER=$(sqlite3 "$DB" "SELECT count(*) FROM posts")
AUDITED=$(sqlite3 "$DB" "SELECT count(*) FROM audit_logs WHERE table_name = 'posts' AND action = 'create' AND record_id > $MAX_POST")
echo "binary: $BIN"
echo "posts created: $((AFTER - BEFORE)); their CREATE audit entries: $AUDITED"
echo "peak RSS: $((RSS / 1024)) MiB; -wal file at the end: $((WAL / 1024 / 1024)) MiB"
