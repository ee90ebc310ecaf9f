#!/usr/bin/env bash
# The subscription benchmark: two release instances on one PostgreSQL (the bench/load_data.sh
# database), SUBSCRIBERS graphql-ws subscribers spread over both and over ORGS organizations,
# RATE published createPost mutations per second for DURATION seconds (bench/subscriptions.mjs).
# Prints delivered events, commit-to-delivery latency p50/p99, and each instance's peak RSS
# (VmHWM) and CPU seconds over the run. Rows the run creates are deleted at the end.
#
# Usage: bench/subscriptions.sh [DB_NAME]   (default blogql_bench)
# Environment: SUBSCRIBERS (1000), RATE (100), DURATION (30), ORGS (10), BLOGQL_BIN
#   (default target/release/blogql; build it with `cargo build --release`).
set -euo pipefail
DB="${1:-blogql_bench}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BLOGQL_BIN:-$ROOT/target/release/blogql}"
SECRET="blogql-bench-secret-0123456789abcdef"
ORG_COUNT="${ORGS:-10}"
[ -x "$BIN" ] || { echo "$BIN is missing: cargo build --release" >&2; exit 1; }
(cd "$ROOT/.ci/clients" && npm ci --no-audit --no-fund --loglevel=error)

MAX_POST=$(psql -X -d "$DB" -Atc "SELECT coalesce(max(id), 0) FROM posts")
MAX_AUDIT=$(psql -X -d "$DB" -Atc "SELECT coalesce(max(id), 0) FROM audit_logs")
ORGS_JSON=$(psql -X -d "$DB" -Atc "
    SELECT json_agg(json_build_object('id', organization_id, 'authorId', id)) FROM (
      SELECT DISTINCT ON (u.organization_id) u.organization_id, u.id
      FROM users u JOIN organizations o ON o.id = u.organization_id
      WHERE u.is_active AND u.deleted_at IS NULL AND o.is_active AND o.deleted_at IS NULL
      ORDER BY u.organization_id, u.id LIMIT $ORG_COUNT) s")

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql -X -q -d "$DB" -c "DELETE FROM post_events" -c "DELETE FROM audit_logs WHERE id > $MAX_AUDIT" \
        -c "DELETE FROM posts WHERE id > $MAX_POST" || true
}
trap cleanup EXIT

URLS=()
for port in 18081 18082; do
    "$BIN" --database-url "postgres://$PGUSER@$PGHOST:$PGPORT/$DB" --listen "127.0.0.1:$port" \
        --jwt-secret "$SECRET" --no-migrate --db-max-connections 10 --log warn \
        --rate-limit-per-minute 0 --rate-limit-anonymous-per-minute 0 \
        --ws-max-connections 100000 >"/tmp/blogql-sub-$port.log" 2>&1 &
    PIDS+=($!)
    URLS+=("http://127.0.0.1:$port")
done
for url in "${URLS[@]}"; do
    for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
declare -A CPU0
for pid in "${PIDS[@]}"; do CPU0[$pid]=$(cpu "$pid"); done
URLS=$(IFS=,; echo "${URLS[*]}") ORGS="$ORGS_JSON" \
    TOKEN=$("$BIN" token --platform-admin --jwt-secret "$SECRET" --ttl 1h) \
    SUBSCRIBERS="${SUBSCRIBERS:-1000}" RATE="${RATE:-100}" DURATION="${DURATION:-30}" \
    node "$ROOT/bench/subscriptions.mjs"
for pid in "${PIDS[@]}"; do
    echo "instance $pid: peak RSS $(awk '/VmHWM/{print $2" "$3}' /proc/$pid/status), CPU $(awk -v a="${CPU0[$pid]}" -v b="$(cpu "$pid")" -v t="$TICKS" 'BEGIN{printf "%.1f s", (b-a)/t}')"
done
