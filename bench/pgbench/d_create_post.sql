-- (d) createPost with its audit entry and its outbox event: insert the post (with its
-- slug), the audit row (JSON snapshot of the new post, ~1 KB content) and the post event
-- (under the organization's advisory lock, as service/outbox.rs; the server's NOTIFY is
-- sent after the commit, batched, and left out here) in one transaction, as a random member.
-- Run with -M prepared (variables become typed parameters, hence the casts).
\set u random(2001, 50000)
\set org (:u - 1) % 1000 + 1
\set n random(1, 1000000000)
BEGIN;
INSERT INTO posts (user_id, organization_id, title, slug, content, status, view_count, created_at, updated_at)
VALUES (:u, :org, 'Bench post ' || :n::text, 'bench-post-' || :n::text, 'Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. ', 'draft', 0, now(), now())
RETURNING id AS post_id, created_at::text AS post_created \gset
INSERT INTO audit_logs (organization_id, user_id, action, table_name, record_id, old_values, new_values, ip_address, created_at)
VALUES (:org, :u, 'create', 'posts', :post_id, NULL,
        json_build_object('id', :post_id::int, 'user_id', :u::int, 'organization_id', :org::int,
                          'title', 'Bench post ' || :n::text, 'content', 'Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. Benchmark post body, about one kilobyte of text. '::text, 'status', 'draft'::text,
                          'view_count', 0, 'created_at', :post_created::text, 'updated_at', :post_created::text,
                          'deleted_at', NULL::text),
        '127.0.0.1', now());
WITH inserted AS (
  INSERT INTO post_events (organization_id, post_id, kind, public, occurred_at)
  SELECT :org::int, :post_id::int, 'created', false, now()
  FROM (SELECT pg_advisory_xact_lock(185638526, :org::int)) AS turn RETURNING organization_id)
SELECT DISTINCT organization_id FROM inserted;
COMMIT;
