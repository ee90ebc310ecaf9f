-- (c) A random post by id, as an anonymous reader may see it.
\set id random(1, 1000000)
SELECT id, title, content, view_count, created_at
FROM posts
WHERE id = :id
  AND status = 'published'
  AND deleted_at IS NULL
  AND organization_id IN (SELECT id FROM organizations WHERE is_active AND deleted_at IS NULL);
