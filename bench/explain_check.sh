#!/usr/bin/env bash
# Proves that every query shape the API issues uses indexes on the loaded data set.
#
# Starts the release server against DB_NAME with auto_explain enabled for the server's own
# connections only (libpq `options` in the connection URL: session_preload_libraries,
# log_min_duration=0, log_analyze, JSON), sends one GraphQL request of every shape as
# platform admin, org admin, member and anonymous, reads each request's plans from the
# PostgreSQL server log, and exits 1 if any plan has a Seq Scan on posts, users or
# audit_logs (allowed: global substring search, platform-wide users count; see
# explain_check.py), or a request fails. Two passes: custom
# plans and generic plans (prepared statements after their fifth execution).
#
# Plans and the summary go to bench/plans/ (SUMMARY.md, ids.json, <pass>/NNN_<shape>_<caller>.json;
# bench/plans/with-proposed-indexes/ with --with-proposed-indexes).
# The mutations leave a few new posts, users, organizations and audit entries behind;
# every soft delete is followed by its restore.
#
# Usage: bench/explain_check.sh DB_NAME [--with-proposed-indexes] [--passes custom,generic]
#   --with-proposed-indexes  first creates the indexes of bench/proposed_indexes.sql (kept)
# Environment: PGHOST, PGPORT, PGUSER (127.0.0.1, 5432, postgres), PG_LOG_FILE (the server
# log, found automatically), EXPLAIN_LISTEN (127.0.0.1:18181).
set -euo pipefail

DB="${1:?usage: $0 DB_NAME [--with-proposed-indexes] [--passes custom,generic]}"
shift
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PASSES="custom,generic"
OUT="$ROOT/bench/plans"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --with-proposed-indexes)
            echo "== creating the proposed indexes (bench/proposed_indexes.sql)"
            psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -f "$ROOT/bench/proposed_indexes.sql"
            OUT="$ROOT/bench/plans/with-proposed-indexes"
            ;;
        --passes) PASSES="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

(cd "$ROOT" && cargo build --release --quiet)
BIN="$ROOT/target/release/blogql"
rm -rf "$OUT/custom" "$OUT/generic"
mkdir -p "$OUT"

exec python3 "$ROOT/bench/explain_check.py" \
    --db "$DB" \
    --database-url "postgres://$PGUSER@$PGHOST:$PGPORT/$DB" \
    --bin "$BIN" \
    --secret "${BENCH_JWT_SECRET:-blogql-bench-secret-0123456789abcdef}" \
    --listen "${EXPLAIN_LISTEN:-127.0.0.1:18181}" \
    --passes "$PASSES" \
    --out "$OUT"
