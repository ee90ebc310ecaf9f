// relay-compiler on relay/src (a paginated @connection fragment, a @refetchable
// fragment on Post, a mutation with @prependNode), against the schema fetched from
// the live server by introspection; then each compiled operation's text
// (the artifacts' params.text) is sent to the server and must answer without errors
// (the subscription's text too: ws.mjs runs it over graphql-ws).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClientSchema, getIntrospectionQuery, parse, printSchema } from 'graphql';
import { assert, check, post, seed, short } from './lib.mjs';
import { OPTIONS } from './introspection-options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const relayDir = join(here, 'relay');
const generated = join(relayDir, '__generated__');

async function run(params, variables) {
  // Send only the variables the compiled text declares ($connections is client-only).
  const [operation] = parse(params.text).definitions.filter((d) => d.kind === 'OperationDefinition');
  const declared = new Set(operation.variableDefinitions.map((v) => v.variable.name.value));
  const sent = Object.fromEntries(Object.entries(variables).filter(([k]) => declared.has(k)));
  const { status, body } = await post({ query: params.text, operationName: params.name, variables: sent });
  assert(status === 200 && body?.data && !body.errors, `${params.name}: HTTP ${status}: ${short(body)}`);
  return body.data;
}

await check(async () => {
  const { status, body } = await post({ query: getIntrospectionQuery(OPTIONS) });
  assert(status === 200 && body?.data?.__schema && !body.errors, `introspection failed: HTTP ${status}: ${short(body)}`);
  mkdirSync(join(relayDir, '__schema__'), { recursive: true });
  writeFileSync(join(relayDir, '__schema__', 'schema.graphql'), printSchema(buildClientSchema(body.data)));

  rmSync(generated, { recursive: true, force: true });
  mkdirSync(generated);
  const compiler = spawnSync(join(here, 'node_modules', '.bin', 'relay-compiler'), ['--output', 'quiet-with-errors'], {
    cwd: relayDir,
    encoding: 'utf8',
  });
  assert(compiler.status === 0, `relay-compiler exited ${compiler.status}:\n${compiler.stdout}${compiler.stderr}`);

  const require = createRequire(join(generated, 'index.js'));
  const requests = {};
  for (const file of readdirSync(generated).filter((f) => f.endsWith('.graphql.js'))) {
    const artifact = require(join(generated, file));
    if (artifact.kind === 'Request') requests[artifact.params.name] = artifact.params;
  }
  writeFileSync(join(process.env.WORK_DIR ?? '.', 'relay-subscription.graphql'), requests.PostEventsSubscription?.text ?? '');
  const expected = [
    'CreatePostMutation',
    'OrgPostsPaginationQuery',
    'OrgPostsQuery',
    'PostCardRefetchQuery',
    'PostEventsSubscription',
  ];
  assert(
    JSON.stringify(Object.keys(requests).sort()) === JSON.stringify(expected),
    `compiled operations: ${Object.keys(requests).sort().join(', ')}; expected ${expected.join(', ')}`,
  );

  const s = seed();
  const first = (await run(requests.OrgPostsQuery, { slug: s.orgSlug })).organization;
  assert(first?.posts?.edges?.length === 2, `OrgPostsQuery: expected 2 edges, got ${short(first)}`);
  assert(first.posts.pageInfo.hasNextPage === true, 'OrgPostsQuery: hasNextPage should be true');
  const page1 = first.posts.edges.map((e) => e.node.id);

  const second = (
    await run(requests.OrgPostsPaginationQuery, { id: first.id, count: 2, cursor: first.posts.pageInfo.endCursor })
  ).node;
  assert(second?.__typename === 'Organization', `OrgPostsPaginationQuery: node is ${short(second)}`);
  const page2 = second.posts.edges.map((e) => e.node.id);
  assert(page2.length === 2 && page2.every((id) => !page1.includes(id)), `page 2 ${page2} repeats page 1 ${page1}`);

  const post0 = first.posts.edges[0].node;
  const refetched = (await run(requests.PostCardRefetchQuery, { id: post0.id })).node;
  assert(refetched?.id === post0.id && refetched.title === post0.title, `PostCardRefetchQuery: ${short(refetched)}`);

  const created = (
    await run(requests.CreatePostMutation, {
      input: { title: 'Relay prepended post', status: 'PUBLISHED', authorId: s.aliceId },
      connections: [`client:${first.id}:__OrgPosts_posts_connection`],
    })
  ).createPost;
  assert(created?.id && created.title === 'Relay prepended post', `CreatePostMutation: ${short(created)}`);
  // @prependNode puts it first; the server's default order (newest first) agrees.
  const after = (await run(requests.OrgPostsQuery, { slug: s.orgSlug })).organization;
  assert(after.posts.edges[0].node.id === created.id, `the created post is not first: ${short(after.posts.edges)}`);
  assert(after.posts.totalCount === first.posts.totalCount + 1, 'totalCount did not grow by one');
  console.log(`relay: ${Object.keys(requests).length} operations compiled and run`);
});
