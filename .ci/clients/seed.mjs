// Seeds one organization, two users and POSTS published posts through GraphQL
// mutations (as the platform admin), and writes their ids to $WORK_DIR/seed.json.
import { writeFileSync } from 'node:fs';
import { WORK_DIR, check, query } from './lib.mjs';

const POSTS = 5;

await check(async () => {
  const { createOrganization: org } = await query(
    `mutation { createOrganization(input: {name: "Acme Clients", slug: "acme", plan: PRO}) { id slug } }`,
  );
  const users = await query(
    `mutation($org: ID!) {
      alice: createUser(input: {username: "alice", email: "alice@acme.test", fullName: "Alice Liddell", organizationId: $org}) { id }
      bob: createUser(input: {username: "bob", email: "bob@acme.test", role: ADMIN, organizationId: $org}) { id }
    }`,
    { org: org.id },
  );
  const posts = [];
  for (let i = 1; i <= POSTS; i += 1) {
    const { createPost } = await query(
      `mutation($input: CreatePostInput!) { createPost(input: $input) { id title } }`,
      {
        input: {
          title: `Seed post ${i}`,
          content: `Body of seed post ${i}`,
          status: 'PUBLISHED',
          authorId: users.alice.id,
        },
      },
    );
    posts.push(createPost);
  }
  const seed = { orgId: org.id, orgSlug: org.slug, aliceId: users.alice.id, bobId: users.bob.id, posts };
  writeFileSync(`${WORK_DIR}/seed.json`, `${JSON.stringify(seed, null, 2)}\n`);
});
