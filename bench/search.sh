#!/usr/bin/env bash
# Search latency at 1M posts: `search` (substring) and `fullText` (ranked words) across all
# organizations and within one, for terms of three selectivities (bench/load_data.sh):
# a rare word (~0.1% of posts), a topic (~2%) and a broad word (~2/3 of all posts), as an
# anonymous caller, against the release server on PostgreSQL or SQLite.
# Prints one table row per shape: req/s, p50, p99, max, errors, and the server's peak RSS.
#
# Usage: bench/search.sh DATABASE_URL     (postgres://…/blogql_bench or sqlite://FILE)
# Environment: DURATION (15), WARMUP (3), CONCURRENCY (16; the broad shapes run at 2),
#   SHAPES (all), PORT (18095), BLOGQL_BIN (default: build this checkout's release binary).
set -euo pipefail
URL="${1:?usage: $0 DATABASE_URL}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-3}"
CONCURRENCY="${CONCURRENCY:-16}"
PORT="${PORT:-18095}"
SHAPES="${SHAPES:-search_rare search_topic search_topic_count fulltext_rare fulltext_topic fulltext_topic_count fulltext_org search_broad fulltext_broad}"
SECRET=search-bench-secret-0123456789abcdef
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [[ -z "${BLOGQL_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    BLOGQL_BIN="$ROOT/target/release/blogql"
fi
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BLOGQL_BIN" --database-url "$URL" --listen "127.0.0.1:$PORT" --jwt-secret "$SECRET" --no-migrate \
    --rate-limit-per-minute 0 --rate-limit-anonymous-per-minute 0 --log warn >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do curl -fs "127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "127.0.0.1:$PORT/readyz" >/dev/null

echo "database: ${URL%%\?*}   commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)   cores: $(nproc)"
echo
echo "| shape | conc. | req/s | p50 ms | p99 ms | max ms | errors |"
echo "|---|---|---|---|---|---|---|"
for shape in $SHAPES; do
    c="$CONCURRENCY"
    [[ "$shape" == *_broad ]] && c=2
    run() { wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d "${1}s" --timeout 30s -s "$ROOT/bench/wrk/shapes.lua" "http://127.0.0.1:$PORT/graphql" -- "$shape"; }
    run "$WARMUP" >/dev/null
    w=$(run "$DURATION" | sed -n 's/^WRKJSON //p')
    python3 - "$shape" "$c" "$w" <<'PY'
import json, sys
shape, c, w = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
errors = w["graphql_errors"] + w["socket_errors"]
print(f"| {shape} | {c} | {w['rps']:.0f} | {w['p50_ms']:.1f} | {w['p99_ms']:.1f} | {w['max_ms']:.0f} | {errors} |")
if w["error_sample"]:
    print(f"  first error: {w['error_sample'][:200]}", file=sys.stderr)
PY
done
echo
echo "server peak RSS: $(awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$SERVER/status")"
