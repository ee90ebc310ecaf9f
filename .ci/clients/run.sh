#!/usr/bin/env bash
# Real GraphQL clients against a live blogql: graphql-js introspection (16 and 17),
# schema descriptions, relay-compiler, Apollo Client 3 (relay-style pagination, a
# cache update, automatic persisted queries over POST and GET), graphql-ws
# subscriptions on /graphql/ws (relay-compiler's subscription text), trusted documents
# from relay-compiler's and Apollo's manifests, and GraphiQL in headless Chromium with
# no internet.
#
# Starts target/debug/blogql itself (built beforehand; this script never runs cargo)
# on a fresh SQLite database and a free port, with the server's default limits,
# seeds it through GraphQL mutations, runs every check, prints one line per check
# and exits non-zero if any failed.
#
#   SCREENSHOT=path   where GraphiQL's screenshot goes (default .ci/clients/graphiql.png)
#   BLOGQL_BIN=path   the server binary (default target/debug/blogql)
#   KEEP_WORK=1       keep the temporary folder (database, server log, check logs)
#   ONLY="a b"        run only these checks (names as printed)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
screenshot="${SCREENSHOT:-$here/graphiql.png}"
case "$screenshot" in /*) ;; *) screenshot="$PWD/$screenshot" ;; esac
bin="${BLOGQL_BIN:-$root/target/debug/blogql}"
started=$(date +%s.%N)

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

if [ ! -x "$bin" ]; then
  echo "FAIL: $bin is missing: build it first (cargo build --bin blogql)" >&2
  exit 1
fi

echo "== installing the clients (npm ci)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "(kept $work)"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
secret="ci-clients-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
echo "== starting blogql on 127.0.0.1:$port (server log: $work/server.log)"
"$bin" --database-url "sqlite://$work/c.db?mode=rwc" --listen "127.0.0.1:$port" \
  --jwt-secret "$secret" --log warn >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if ! curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  echo "FAIL: blogql did not come up; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

export BLOGQL_URL="http://127.0.0.1:$port/graphql"
export BLOGQL_TOKEN
BLOGQL_TOKEN=$("$bin" token --platform-admin --jwt-secret "$secret" --ttl 1h)
export WORK_DIR="$work" SCREENSHOT="$screenshot" BLOGQL_BIN="$bin" BLOGQL_JWT_SECRET="$secret"

echo "== seeding an organization, two users and five posts"
if ! (cd "$here" && node seed.mjs); then
  echo "FAIL: seeding failed; the server log:" >&2
  tail -n 20 "$work/server.log" >&2
  exit 1
fi

checks=(
  "introspection-graphql16|node introspection.mjs graphql"
  "introspection-graphql17|node introspection.mjs graphql17"
  "schema-descriptions|node introspection.mjs graphql --descriptions"
  "relay-compiler|node relay.mjs"
  "graphql-ws-subscriptions|node ws.mjs"
  "apollo-relay-pagination|node apollo.mjs pagination"
  "apollo-mutation-cache|node apollo.mjs mutation"
  "apollo-apq-post|node apollo.mjs apq-post"
  "apollo-apq-get|node apollo.mjs apq-get"
  "apq-hash-mismatch|node apollo.mjs apq-mismatch"
  "trusted-relay|node trusted.mjs relay"
  "trusted-apollo|node trusted.mjs apollo"
  "graphiql-offline|node graphiql.mjs"
)
passed=0
failed=0
echo "== checks"
for entry in "${checks[@]}"; do
  name="${entry%%|*}"
  cmd="${entry#*|}"
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then continue; fi
  t0=$(date +%s.%N)
  if (cd "$here" && timeout 180 $cmd) >"$work/$name.log" 2>&1; then
    printf 'PASS %-26s %6ss\n' "$name" "$(elapsed "$t0")"
    passed=$((passed + 1))
  else
    printf 'FAIL %-26s %6ss\n' "$name" "$(elapsed "$t0")"
    sed -e 's/^/     | /' "$work/$name.log" | head -n 60
    failed=$((failed + 1))
  fi
done

if ! kill -0 "$server" 2>/dev/null; then
  echo "FAIL: blogql exited during the checks; its log:" >&2
  tail -n 40 "$work/server.log" >&2
  failed=$((failed + 1))
fi
echo "== clients: $(elapsed "$started")s in all; screenshot: $screenshot"
echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
