-- (a) The 20 newest published posts of a random organization with the author's username,
-- as an anonymous reader may see them (active, live organization), in one statement.
\set org random(1, 1000)
SELECT p.id, p.title, p.created_at, u.username
FROM posts p
JOIN users u ON u.id = p.user_id
WHERE p.organization_id = :org
  AND p.status = 'published'
  AND p.deleted_at IS NULL
  AND p.organization_id IN (SELECT id FROM organizations WHERE is_active AND deleted_at IS NULL)
ORDER BY p.created_at DESC, p.id DESC
LIMIT 20;
