#!/usr/bin/env bash
# Server instructions per request, counted by valgrind's callgrind: repeatable where
# wall-clock figures on a shared VM are not (the same build gives the same count to ~3%).
#
# Starts BIN under callgrind on the loaded database, sends N1 and then N2 sequential
# requests of one shape in two runs (the same random arguments, seed 7), and prints
# (instructions of run N2 - instructions of run N1) / (N2 - N1): the user-space
# instructions of one request, start-up and shutdown cancelled out (the start-up clock
# calibration, whose length varies, is subtracted from each run). Kernel time is not
# counted.
#
# Usage: bench/instructions.sh [BIN] [SHAPE a|b|c] [DB]   (defaults: target/release/blogql a blogql_bench)
# Environment: N1 (100), N2 (400), PGHOST/PGPORT/PGUSER, KEEP (a directory to keep the two
# callgrind outputs in, for `callgrind_annotate --inclusive=yes --diff`-style comparisons).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/target/release/blogql}"
SHAPE="${2:-a}"
DB="${3:-blogql_bench}"
N1="${N1:-100}"
N2="${N2:-400}"
PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
PORT=18111
command -v valgrind >/dev/null || { echo "valgrind is required" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

run() { # requests -> total instructions
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$1" "$BIN" \
        --database-url "postgres://$PGUSER@$PGHOST:$PGPORT/$DB" --listen "127.0.0.1:$PORT" \
        --jwt-secret instructions-bench-secret-0123456789 --no-migrate --db-max-connections 4 \
        --log info --rate-limit-per-minute 0 --rate-limit-anonymous-per-minute 0 \
        >"$OUT/server.$1.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 300); do curl -fs "127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    python3 - "$SHAPE" "$1" "$PORT" "$TOKEN" <<'PY'
import json, random, sys, urllib.request
shape, n, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
random.seed(7)
queries = {
    "a": ("query A($org: ID!) { posts(organizationId: $org, first: 20, filter: {status: PUBLISHED}) "
          "{ edges { node { id title createdAt author { username } } } } }", "org", 1000),
    "b": ("query B($org: ID) { organization(id: $org) { name users(first: 10) { edges { node { username "
          "posts(first: 5) { edges { node { id title createdAt } } } } } } } }", "org", 1000),
    "c": ("query C($id: ID!) { post(id: $id) { id title content viewCount createdAt } }", "id", 1000000),
}
headers = {"content-type": "application/json"}
if shape == "b":  # as run.sh's (b): a platform admin
    headers["authorization"] = "Bearer " + token
query, var, top = queries[shape]
for _ in range(n):
    body = json.dumps({"query": query, "variables": {var: str(random.randint(1, top))}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, headers=headers)
    response = urllib.request.urlopen(request).read()
    assert b'"errors"' not in response, response
PY
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    local total calibration
    total=$(sed -n 's/^summary: //p' "$OUT/cg.$1")
    # The metrics recorder calibrates its clock (quanta) once at start-up by spinning for a
    # while: 10-15M instructions that vary from run to run (±8,000 per request here).
    calibration=$(callgrind_annotate --inclusive=yes --threshold=100 "$OUT/cg.$1" 2>/dev/null |
        awk '/PrometheusBuilder::build_recorder/ { gsub(",", "", $1); print $1; exit }')
    echo $(( total - ${calibration:-0} ))
}

TOKEN=$("$BIN" token --platform-admin --jwt-secret instructions-bench-secret-0123456789 --ttl 2h)
first=$(run "$N1")
second=$(run "$N2")
echo "shape $SHAPE: $(( (second - first) / (N2 - N1) )) instructions per request ($BIN)"
if [[ -n "${KEEP:-}" ]]; then
    mkdir -p "$KEEP"
    cp "$OUT/cg.$N1" "$KEEP/cg.$SHAPE.$N1"
    cp "$OUT/cg.$N2" "$KEEP/cg.$SHAPE.$N2"
fi
