-- Index changes proposed by bench/explain_check.sh (see bench/README.md), on top of the
-- migrations up to m20261127_000005_add_global_list_indexes. Apply with
--   bench/explain_check.sh DB --with-proposed-indexes
-- (applies this file, keeps the result, writes plans to bench/plans/with-proposed-indexes/).
--
-- Query.posts without organizationId (platform admin, anonymous public feed): its
-- totalCount is COUNT(*) over every live (or published, public) post. With the plain
-- (created_at, id) index of migration 000005 that count is a parallel Seq Scan of the
-- 1.3 GB table; with deleted_at, status and organization_id INCLUDEd it is an index-only
-- scan of a 54 MB index (5x less time, no heap I/O). The page queries use it as before.
CREATE INDEX IF NOT EXISTS idx_posts_created_at_id_covering ON posts (created_at, id)
    INCLUDE (deleted_at, status, organization_id);
DROP INDEX IF EXISTS idx_posts_created_at_id;
-- Without migration 000005 (older schema), the other global-list indexes it adds:
CREATE INDEX IF NOT EXISTS idx_posts_updated_at_id ON posts (updated_at, id);
CREATE INDEX IF NOT EXISTS idx_posts_view_count_id ON posts (view_count, id);
CREATE INDEX IF NOT EXISTS idx_posts_title_id ON posts (title, id);
CREATE INDEX IF NOT EXISTS idx_audit_logs_user_id_created_at_id ON audit_logs (user_id, created_at, id);
ANALYZE posts;
ANALYZE audit_logs;

-- To undo (back to migration 000005):
-- CREATE INDEX IF NOT EXISTS idx_posts_created_at_id ON posts (created_at, id);
-- DROP INDEX IF EXISTS idx_posts_created_at_id_covering;
