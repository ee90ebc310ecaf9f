// Trusted documents with the manifests the clients' own tools write:
//   relay   relay-compiler's persistConfig writes {id: text}; a blogql started with it and
//           BLOGQL_TRUSTED_DOCUMENTS=only runs the compiled operations by `documentId`
//           and refuses their text sent as a query (QUERY_NOT_IN_SAFELIST)
//   apollo  an Apollo persisted-query manifest of the documents as Apollo Client prints
//           them; Apollo Client's persisted-query link gets its data from the hash alone,
//           and a document outside the manifest fails with PERSISTED_QUERY_NOT_IN_LIST
// Each starts its own blogql (BLOGQL_BIN) on a fresh SQLite file in WORK_DIR.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { addTypenameToDocument } from '@apollo/client/utilities/index.js';
import { buildClientSchema, getIntrospectionQuery, print, printSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { WORK_DIR, assert, check, post, sha256, short } from './lib.mjs';
import { OPTIONS } from './introspection-options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const mode = process.argv[2];
const bin = process.env.BLOGQL_BIN;

/** Starts blogql with `manifest` and `--trusted-documents only`; returns { url, stop }. */
async function startServer(name, manifest) {
  assert(bin, 'BLOGQL_BIN is not set (run .ci/clients/run.sh)');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const log = join(WORK_DIR, `${name}-server.log`);
  const server = spawn(
    bin,
    [
      '--database-url', `sqlite://${WORK_DIR}/${name}.db?mode=rwc`,
      '--listen', `127.0.0.1:${port}`,
      '--jwt-secret', 'ci-trusted-0123456789abcdef',
      '--persisted-documents', manifest,
      '--trusted-documents', 'only',
      '--log', 'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  server.stderr.on('data', (chunk) => (stderr += chunk));
  for (let i = 0; i < 150; i++) {
    if (server.exitCode !== null) break;
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) {
        return { url: `http://127.0.0.1:${port}/graphql`, stop: () => server.kill() };
      }
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill();
  writeFileSync(log, stderr);
  throw new Error(`blogql with ${manifest} did not come up: ${stderr}`);
}

async function postTo(url, payload) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
}

const code = (body) => body?.errors?.[0]?.extensions?.code;

async function relay() {
  const relayDir = join(here, 'relay');
  const { status, body } = await post({ query: getIntrospectionQuery(OPTIONS) });
  assert(status === 200 && body?.data?.__schema, `introspection failed: HTTP ${status}: ${short(body)}`);
  mkdirSync(join(relayDir, '__schema__'), { recursive: true });
  writeFileSync(join(relayDir, '__schema__', 'schema.graphql'), printSchema(buildClientSchema(body.data)));
  const out = join(relayDir, '__persisted__');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const manifestPath = join(out, 'persisted_queries.json');
  writeFileSync(manifestPath, '{}'); // relay-compiler adds to the file it is given
  const compiler = spawnSync(
    join(here, 'node_modules', '.bin', 'relay-compiler'),
    ['--output', 'quiet-with-errors', 'relay.persist.json'],
    { cwd: relayDir, encoding: 'utf8' },
  );
  assert(compiler.status === 0, `relay-compiler exited ${compiler.status}:\n${compiler.stdout}${compiler.stderr}`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));

  const require = createRequire(join(out, 'index.js'));
  const operations = readdirSync(out)
    .filter((f) => f.endsWith('.graphql.js'))
    .map((f) => require(join(out, f)))
    .filter((a) => a.kind === 'Request')
    .map((a) => a.params);
  assert(operations.length === 5, `expected 5 persisted operations, got ${operations.map((p) => p.name)}`);
  for (const params of operations) {
    assert(params.id && params.text === null, `${params.name} was not persisted: ${short(params)}`);
    assert(typeof manifest[params.id] === 'string', `${params.name}: ${params.id} is not in the manifest`);
  }

  const server = await startServer('relay', manifestPath);
  try {
    const byName = Object.fromEntries(operations.map((p) => [p.name, p]));
    const run = async (name, variables) => {
      const { status, body } = await postTo(server.url, { documentId: byName[name].id, variables });
      assert(status === 200 && body.data && !body.errors, `${name} by documentId: HTTP ${status}: ${short(body)}`);
      return body.data;
    };
    const org = await run('OrgPostsQuery', { slug: 'no-such-org' });
    assert(org.organization === null, `OrgPostsQuery: ${short(org)}`);
    await run('PostCardRefetchQuery', { id: 'UG9zdDox' });

    const text = manifest[byName.OrgPostsQuery.id];
    const asText = await postTo(server.url, { query: text.replace('query OrgPostsQuery', 'query Other'), variables: { slug: 'x' } });
    assert(code(asText.body) === 'QUERY_NOT_IN_SAFELIST', `a text outside the manifest: ${short(asText.body)}`);
    const unknown = await postTo(server.url, { documentId: sha256('nope') });
    assert(code(unknown.body) === 'PERSISTED_QUERY_NOT_IN_LIST', `an unknown id: ${short(unknown.body)}`);
    // The subscription by documentId over /graphql/ws (graphql-ws), in `only` mode too.
    const ws = createClient({
      url: server.url.replace(/^http/, 'ws') + '/ws',
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const first = await new Promise((resolve, reject) => {
      const stop = ws.subscribe(
        { query: '', documentId: byName.PostEventsSubscription.id, variables: { organizationId: '999' } },
        { next: (r) => (stop(), resolve(r)), error: reject, complete: () => {} },
      );
    });
    await ws.dispose();
    // This server has no organization 999: the persisted subscription ran and said so.
    assert(code(first) === 'NOT_FOUND', `the persisted subscription over WebSocket: ${short(first)}`);
    console.log(`relay: ${operations.length} persisted operations ran by documentId; others refused`);
  } finally {
    server.stop();
  }
}

const IN_MANIFEST = gql`
  query TrustedOrganizations {
    organizations(first: 5) {
      totalCount
      nodes { id name }
    }
  }
`;
const OUTSIDE = gql`
  query Untrusted {
    organizations { totalCount }
  }
`;

async function apollo() {
  // What @apollo/generate-persisted-query-manifest writes: the document as Apollo Client
  // sends it (with __typename added), its SHA-256 as the id.
  const body = print(addTypenameToDocument(IN_MANIFEST));
  const manifestPath = join(WORK_DIR, 'apollo-manifest.json');
  writeFileSync(
    manifestPath,
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256(body), name: 'TrustedOrganizations', type: 'query', body }],
    }),
  );
  const server = await startServer('apollo', manifestPath);
  try {
    const sent = [];
    const fetchFn = async (input, init) => {
      sent.push(JSON.parse(init.body));
      return fetch(input, init);
    };
    const client = new ApolloClient({
      link: createPersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: server.url, fetch: fetchFn })),
      cache: new InMemoryCache(),
    });
    const { data } = await client.query({ query: IN_MANIFEST, fetchPolicy: 'network-only' });
    assert(data.organizations.totalCount === 0, `TrustedOrganizations: ${short(data)}`);
    assert(sent.length === 1 && sent[0].query === undefined, `Apollo sent more than the hash: ${short(sent)}`);
    assert(sent[0].extensions.persistedQuery.sha256Hash === sha256(body), 'the hash is not the manifest id');

    let refused;
    try {
      await client.query({ query: OUTSIDE, fetchPolicy: 'network-only' });
    } catch (error) {
      refused = error;
    }
    const codes = (refused?.graphQLErrors ?? []).map((e) => e.extensions?.code);
    assert(codes.includes('PERSISTED_QUERY_NOT_IN_LIST'), `a document outside the manifest: ${refused ?? 'ran'}`);
    console.log('apollo: the manifest document ran from its hash alone; another was refused');
  } finally {
    server.stop();
  }
}

const checks = { relay, apollo };
assert(checks[mode], `usage: node trusted.mjs ${Object.keys(checks).join('|')}`);
await check(checks[mode]);
