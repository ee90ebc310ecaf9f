-- (b) A random organization, its 10 oldest live users, each user's 5 newest live posts,
-- in one statement (LATERAL top-N per parent).
\set org random(1, 1000)
SELECT o.name, u.id, u.username, p.id, p.title, p.created_at
FROM organizations o
CROSS JOIN LATERAL (
    SELECT id, username FROM users
    WHERE organization_id = o.id AND deleted_at IS NULL
    ORDER BY created_at, id
    LIMIT 10) u
LEFT JOIN LATERAL (
    SELECT id, title, created_at FROM posts
    WHERE user_id = u.id AND deleted_at IS NULL
    ORDER BY created_at DESC, id DESC
    LIMIT 5) p ON true
WHERE o.id = :org AND o.deleted_at IS NULL;
