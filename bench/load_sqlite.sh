#!/usr/bin/env bash
# Copies the PostgreSQL benchmark data set (bench/load_data.sh) into a SQLite file, so the
# SQLite figures are measured on the same rows: organizations, users, posts and audit_logs,
# column by column as the server stores them on SQLite (timestamps as RFC 3339 text with
# microseconds, booleans as 0/1). The file is created with `blogql migrate up`; the FTS5
# tables of search fill through their triggers as the posts are inserted.
#
# Usage: bench/load_sqlite.sh PG_DB_NAME SQLITE_FILE
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), BLOGQL_BIN (built with
# `cargo build --release` when unset).
set -euo pipefail
DB="${1:?usage: $0 PG_DB_NAME SQLITE_FILE}"
FILE="${2:?usage: $0 PG_DB_NAME SQLITE_FILE}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
if [[ -z "${BLOGQL_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    BLOGQL_BIN="$ROOT/target/release/blogql"
fi
start=$(date +%s)
rm -f "$FILE" "$FILE-wal" "$FILE-shm"
"$BLOGQL_BIN" --log warn --database-url "sqlite://$FILE?mode=rwc" migrate up
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for table in organizations users posts audit_logs; do
    # PostgreSQL's columns of the table that SQLite has too (not the generated search_vector).
    sqlite_cols=$(sqlite3 "$FILE" "SELECT group_concat(name, ' ') FROM pragma_table_info('$table')")
    select=(); cols=()
    while IFS='|' read -r name type; do
        [[ " $sqlite_cols " == *" $name "* ]] || continue
        case "$type" in
            "timestamp with time zone")
                select+=("to_char($name AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00:00'") ;;
            boolean) select+=("$name::int") ;;
            *) select+=("$name") ;;
        esac
        cols+=("$name")
    done < <(psql -X -At -d "$DB" -c "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = '$table' ORDER BY ordinal_position")
    list=$(IFS=,; echo "${cols[*]}")
    echo "== $table ($list)"
    psql -X -q -d "$DB" -c "\\copy (SELECT $(IFS=,; echo "${select[*]}") FROM $table ORDER BY id) TO '$WORK/$table.csv' CSV"
    staged=$(printf '%s TEXT,' "${cols[@]}"); staged=${staged%,}
    # CSV has no NULL: an empty field is one (no column of the data set holds '').
    values=$(printf "nullif(%s, '')," "${cols[@]}"); values=${values%,}
    sqlite3 "$FILE" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA foreign_keys = OFF;
CREATE TEMP TABLE staged ($staged);
.mode csv
.import '$WORK/$table.csv' staged
INSERT INTO $table ($list) SELECT $values FROM staged;
SQL
    rm -f "$WORK/$table.csv"
    echo "   $(sqlite3 "$FILE" "SELECT count(*) FROM $table") rows, $(( $(date +%s) - start )) s so far"
done
sqlite3 "$FILE" "PRAGMA foreign_key_check" | head -5
sqlite3 "$FILE" "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
echo "== $FILE: $(du -h "$FILE" | cut -f1), took $(( $(date +%s) - start )) s"
