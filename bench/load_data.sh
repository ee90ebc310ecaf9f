#!/usr/bin/env bash
# Creates DB_NAME on the PostgreSQL server, applies the server's migrations
# (`blogql migrate up`), and loads the benchmark data set with set-based SQL:
#
#   1,000 organizations  (60% free / 30% pro / 10% enterprise; 1% inactive, 0.5% soft-deleted)
#   50,000 users         (50 per organization, 2 admins each; ~2% inactive, ~1% soft-deleted)
#   1,000,000 posts      (~1 KB content; 60% published / 25% draft / 15% archived;
#                         ~5% soft-deleted, including the cascades of deleted users and
#                         organizations; created over the last ~3.5 years, ids in time order;
#                         log-skewed view counts; authors skewed: early users write more)
#   ~1.33M audit_logs    (one `create` per organization, user and post, one `update` per
#                         published/archived post that was edited, one `delete` per deleted row)
#
# Timestamps are timestamptz at microsecond precision (as the server writes them), enums are
# the lowercase strings the server stores, audit values are JSON objects keyed by column name.
#
# Usage: bench/load_data.sh DB_NAME
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), BLOGQL_BIN (built with
# `cargo build --release` when unset).
set -euo pipefail

DB="${1:?usage: $0 DB_NAME}"
if [[ ! "$DB" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "DB_NAME must be a plain lowercase identifier" >&2
    exit 2
fi
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if [[ -z "${BLOGQL_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    BLOGQL_BIN="$ROOT/target/release/blogql"
fi

start=$(date +%s)
echo "== creating database $DB"
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\""

echo "== migrations (blogql migrate up)"
DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" "$BLOGQL_BIN" --log warn migrate up

echo "== loading data"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL'
\timing on
-- Bulk-load settings for this session only. Foreign-key triggers are skipped
-- (session_replication_role = replica): the data is consistent by construction.
SET session_replication_role = replica;
SET synchronous_commit = off;
SET maintenance_work_mem = '1GB';
SET work_mem = '256MB';

-- Secondary indexes are dropped during the load and rebuilt afterwards from their exact
-- definitions as the migrations created them.
CREATE TEMP TABLE bench_index_defs AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
WHERE t.relname IN ('organizations', 'users', 'posts', 'audit_logs')
  AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
SELECT format('DROP INDEX %s', name) FROM bench_index_defs \gexec

CREATE TEMP TABLE bench_anchor AS SELECT now() AS t_now;

CREATE TEMP TABLE words AS
SELECT ARRAY['the','a','of','and','to','in','is','for','on','with','as','by','at','from',
  'database','index','query','planner','server','rust','async','graphql','schema','tenant',
  'cursor','page','connection','latency','throughput','cache','memory','thread','runtime',
  'benchmark','postgres','table','row','column','migration','release','deploy','cluster',
  'replica','backup','restore','audit','token','secret','request','response','client',
  'network','socket','buffer','vacuum','analyze','explain','scan','sort','join','hash',
  'merge','loop','batch','loader','window','partition','count','filter','order','limit',
  'offset','keyset','stable','insert','update','delete','soft','cascade','organization',
  'user','post','blog','author','editor','draft','published','archived','comment','story',
  'garden','mountain','river','coffee','morning','evening','winter','summer','journey',
  'kitchen','recipe','bread','music','guitar','camera','travel','city','harbor','forest',
  'lantern','orbit','quartz','velvet','zephyr','meadow','compass','ember','falcon'] AS w;

-- Search terms of three selectivities, so the EXPLAIN check and bench/search.sh can search
-- like users do (most searched words are rare) as well as for a word in most posts:
--   rare:   1,000 made-up words of three syllables (kalomi, ...), one per post, ~0.1% each;
--   topic:  50 topic words, one per post, ~2% each;
--   broad:  the words of the paragraphs below, each in ~2/3 of all posts.
CREATE TEMP TABLE syllables AS SELECT ARRAY['ka','lo','mi','ne','ru','ta','vi','zo','pe','su'] AS s;
CREATE TEMP TABLE topics AS
SELECT ARRAY['kubernetes','typescript','photography','gardening','astronomy','woodworking',
  'marathon','espresso','sourdough','watercolor','birdwatching','chess','climbing','cycling',
  'fermentation','genealogy','homebrewing','knitting','linguistics','meteorology','mycology',
  'origami','pottery','quilting','robotics','sailing','sculpture','snowboarding','surfing',
  'taxidermy','telescopes','terrarium','vinyl','volcanology','yoga','zoology','calligraphy',
  'beekeeping','bonsai','carpentry','ceramics','cryptography','dendrology','embroidery',
  'falconry','glassblowing','herpetology','ikebana','juggling','kayaking'] AS t;

-- 256 paragraphs of roughly 1 KB; each post's content is a unique lead sentence + one of them.
CREATE TEMP TABLE paras AS
SELECT p AS n,
       (SELECT string_agg(w[1 + floor(random() * array_length(w, 1))::int], ' ')
        FROM generate_series(1, 150) AS k, words
        WHERE p >= 0) || '.' AS body
FROM generate_series(0, 255) AS p;

-- Organizations: ids in creation order, created 4 to 1 years ago.
INSERT INTO organizations (id, name, slug, plan, is_active, created_at, updated_at, deleted_at)
SELECT g,
       'Organization ' || lpad(g::text, 4, '0'),
       'org-' || lpad(g::text, 4, '0'),
       CASE WHEN g % 10 < 6 THEN 'free' WHEN g % 10 < 9 THEN 'pro' ELSE 'enterprise' END,
       g % 100 <> 0,
       c,
       CASE WHEN random() < 0.3 THEN c + random() * (t_now - interval '10 days' - c) ELSE c END,
       CASE WHEN g % 200 = 50 THEN t_now - random() * interval '30 days' END
FROM (SELECT g, a.t_now,
             a.t_now - interval '4 years' + ((g - 1) + random()) / 1000.0 * interval '3 years' AS c
      FROM generate_series(1, 1000) AS g, bench_anchor a) s;

-- Users: user u belongs to organization ((u - 1) % 1000) + 1; the first two users of each
-- organization are its admins. Soft-deleted organizations cascade to their users with the
-- same timestamp.
INSERT INTO users (id, username, email, full_name, is_active, organization_id, role,
                   created_at, updated_at, deleted_at)
SELECT u,
       fn || '.' || ln || u,
       fn || '.' || ln || u || '@' || o.slug || '.example.com',
       CASE WHEN u % 31 = 0 THEN NULL ELSE initcap(fn) || ' ' || initcap(ln) END,
       u <= 2000 OR u % 41 <> 0,
       o.id,
       CASE WHEN u <= 2000 THEN 'admin' ELSE 'member' END,
       c,
       CASE WHEN random() < 0.2 THEN c + random() * (coalesce(o.deleted_at, a.t_now) - c) ELSE c END,
       coalesce(o.deleted_at,
                CASE WHEN u > 2000 AND u % 97 = 0 THEN c + random() * (a.t_now - c) END)
FROM (SELECT u,
             (ARRAY['alice','bob','carol','dave','erin','frank','grace','heidi','ivan','judy',
                    'mallory','niaj','olivia','peggy','rupert','sybil','trent','victor',
                    'walter','yara'])[1 + u % 20] AS fn,
             (ARRAY['smith','jones','garcia','miller','davis','lopez','wilson','moore',
                    'taylor','thomas','white','harris','martin','clark','lewis','young',
                    'walker','hall','allen','king','wright','scott','green','baker',
                    'adams','nelson','hill','campbell','mitchell','roberts','carter'])[1 + (u / 20) % 31] AS ln,
             random() AS r
      FROM generate_series(1, 50000) AS u) s
JOIN organizations o ON o.id = (s.u - 1) % 1000 + 1
CROSS JOIN bench_anchor a
CROSS JOIN LATERAL (
    SELECT o.created_at + ((s.u - 1) / 1000 + s.r) / 50.0
                          * (coalesce(o.deleted_at, a.t_now) - o.created_at) * 0.7 AS c) t;

-- Posts: authors skewed (user ids drawn with power(random(), 1.25)), each post created
-- between its author's creation and now (or the author's deletion). Ids are assigned in
-- created_at order, as a serial column would.
CREATE TEMP TABLE post_stage AS
SELECT row_number() OVER (ORDER BY created) AS id, *
FROM (
    SELECT u.id AS user_id, u.organization_id, u.deleted_at AS author_deleted_at,
           u.created_at + s.r1 * (coalesce(u.deleted_at, a.t_now) - u.created_at) AS created,
           s.r2, s.r3, s.r4, a.t_now
    FROM (SELECT least(50000, 1 + floor(50000 * power(random(), 1.25)))::int AS uid,
                 random() AS r1, random() AS r2, random() AS r3, random() AS r4
          FROM generate_series(1, 1000000)) s
    JOIN users u ON u.id = s.uid
    CROSS JOIN bench_anchor a
) x;

INSERT INTO posts (id, user_id, organization_id, title, content, status, view_count,
                   created_at, updated_at, deleted_at, slug, published_at)
SELECT p.id, p.user_id, p.organization_id,
       initcap(w[1 + floor(random() * array_length(w, 1))::int] || ' '
               || w[1 + floor(random() * array_length(w, 1))::int] || ' '
               || w[1 + floor(random() * array_length(w, 1))::int] || ' '
               || w[1 + floor(random() * array_length(w, 1))::int]) || ' #' || p.id,
       'Post ' || p.id || ' by user ' || p.user_id || ' on '
               || s[1 + (p.id * 7919) % 1000 / 100] || s[1 + (p.id * 7919) % 100 / 10]
               || s[1 + (p.id * 7919) % 10] || ' and ' || t[1 + (p.id * 104729) % 50] || '. '
               || pa.body,
       st.status,
       CASE st.status
           WHEN 'published' THEN floor(power(random(), 3) * 20000)::int
           WHEN 'archived' THEN floor(random() * 500)::int
           ELSE 0 END,
       p.created,
       CASE WHEN p.r3 < 0.3
            THEN p.created + random() * (coalesce(p.author_deleted_at, p.t_now) - p.created)
            ELSE p.created END,
       coalesce(p.author_deleted_at,
                CASE WHEN p.r4 < 0.04 THEN p.created + random() * (p.t_now - p.created) END),
       -- Unique per organization among live posts (the live-slug index).
       'post-' || p.id,
       CASE st.status WHEN 'published' THEN p.created END
FROM post_stage p
CROSS JOIN words
CROSS JOIN syllables
CROSS JOIN topics
JOIN paras pa ON pa.n = p.id % 256
CROSS JOIN LATERAL (SELECT CASE WHEN p.r2 < 0.60 THEN 'published'
                                WHEN p.r2 < 0.85 THEN 'draft'
                                ELSE 'archived' END AS status) st;
DROP TABLE post_stage;

-- Audit entries, as the server writes them: actor, subject, JSON snapshots keyed by column
-- name (timestamps as RFC 3339 UTC with microseconds), the client address.
CREATE FUNCTION pg_temp.ts(t timestamptz) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

INSERT INTO audit_logs (organization_id, user_id, actor_subject, action, table_name, record_id,
                        old_values, new_values, ip_address, created_at)
SELECT o.id, NULL, 'platform_admin:seed', 'create', 'organizations', o.id, NULL,
       json_build_object('id', o.id, 'name', o.name, 'slug', o.slug, 'plan', o.plan,
                         'is_active', o.is_active, 'created_at', pg_temp.ts(o.created_at),
                         'updated_at', pg_temp.ts(o.created_at), 'deleted_at', NULL),
       '198.51.100.' || (o.id % 250 + 1), o.created_at
FROM organizations o ORDER BY o.id;

INSERT INTO audit_logs (organization_id, user_id, actor_subject, action, table_name, record_id,
                        old_values, new_values, ip_address, created_at)
SELECT u.organization_id,
       CASE WHEN u.id > 1000 THEN u.organization_id END,
       CASE WHEN u.id <= 1000 THEN 'platform_admin:seed' END,
       'create', 'users', u.id, NULL,
       json_build_object('id', u.id, 'username', u.username, 'email', u.email,
                         'full_name', u.full_name, 'is_active', true,
                         'organization_id', u.organization_id, 'role', u.role,
                         'created_at', pg_temp.ts(u.created_at),
                         'updated_at', pg_temp.ts(u.created_at), 'deleted_at', NULL),
       '203.0.113.' || (u.id % 250 + 1), u.created_at
FROM users u ORDER BY u.id;

INSERT INTO audit_logs (organization_id, user_id, actor_subject, action, table_name, record_id,
                        old_values, new_values, ip_address, created_at)
SELECT p.organization_id, p.user_id, NULL, 'create', 'posts', p.id, NULL,
       json_build_object('id', p.id, 'user_id', p.user_id, 'organization_id', p.organization_id,
                         'title', p.title, 'content', p.content, 'status', 'draft',
                         'view_count', 0, 'created_at', pg_temp.ts(p.created_at),
                         'updated_at', pg_temp.ts(p.created_at), 'deleted_at', NULL),
       '192.0.2.' || (p.user_id % 250 + 1), p.created_at
FROM posts p;

-- Publishing / archiving edits (only the changed columns, like the server's updates).
INSERT INTO audit_logs (organization_id, user_id, actor_subject, action, table_name, record_id,
                        old_values, new_values, ip_address, created_at)
SELECT p.organization_id, p.user_id, NULL, 'update', 'posts', p.id,
       json_build_object('status', 'draft'), json_build_object('status', p.status),
       '192.0.2.' || (p.user_id % 250 + 1), p.updated_at
FROM posts p
WHERE p.updated_at > p.created_at AND p.status <> 'draft';

-- Soft deletes: organizations, users and posts (cascades share the parent's timestamp).
INSERT INTO audit_logs (organization_id, user_id, actor_subject, action, table_name, record_id,
                        old_values, new_values, ip_address, created_at)
SELECT org_id, actor, subject, 'delete', tbl, rid,
       json_build_object('deleted_at', NULL), json_build_object('deleted_at', pg_temp.ts(d)),
       '198.51.100.7', d
FROM (
    SELECT o.id AS org_id, NULL::int AS actor, 'platform_admin:seed' AS subject,
           'organizations' AS tbl, o.id AS rid, o.deleted_at AS d
    FROM organizations o WHERE o.deleted_at IS NOT NULL
    UNION ALL
    SELECT u.organization_id, NULL, 'platform_admin:seed', 'users', u.id, u.deleted_at
    FROM users u WHERE u.deleted_at IS NOT NULL
    UNION ALL
    SELECT p.organization_id, p.user_id, NULL, 'posts', p.id, p.deleted_at
    FROM posts p WHERE p.deleted_at IS NOT NULL
) d
ORDER BY d, rid;

SELECT setval(pg_get_serial_sequence('organizations', 'id'), (SELECT max(id) FROM organizations));
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
SELECT setval(pg_get_serial_sequence('posts', 'id'), (SELECT max(id) FROM posts));
SELECT setval(pg_get_serial_sequence('audit_logs', 'id'), (SELECT max(id) FROM audit_logs));

-- Rebuild the migrations' indexes.
SELECT def FROM bench_index_defs \gexec
RESET session_replication_role;
SQL

echo "== VACUUM ANALYZE"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "VACUUM (ANALYZE)"

psql -X -d "$DB" -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'organizations' AS "table", count(*) AS rows, count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
       pg_size_pretty(pg_total_relation_size('organizations')) AS size FROM organizations
UNION ALL
SELECT 'users', count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL),
       pg_size_pretty(pg_total_relation_size('users')) FROM users
UNION ALL
SELECT 'posts', count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL),
       pg_size_pretty(pg_total_relation_size('posts')) FROM posts
UNION ALL
SELECT 'audit_logs', count(*), NULL, pg_size_pretty(pg_total_relation_size('audit_logs')) FROM audit_logs;
SELECT status, count(*), round(avg(length(content))) AS avg_content_chars,
       min(created_at) AS oldest, max(created_at) AS newest
FROM posts GROUP BY status ORDER BY status;
SQL
echo "== loaded $DB in $(( $(date +%s) - start )) s"
