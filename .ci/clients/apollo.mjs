// Apollo Client 3 in Node against blogql.
//   node apollo.mjs pagination    relayStylePagination(): two pages with fetchMore, merged in the cache
//   node apollo.mjs mutation      createPost with an `update` (cache.modify) prepending the new edge
//   node apollo.mjs apq-post      createPersistedQueryLink({ sha256 }): a miss, then a hit, over POST
//   node apollo.mjs apq-get       the same with useGETForHashedQueries: true
//   node apollo.mjs apq-mismatch  raw fetch: a hash that is not the SHA-256 of the query is refused
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { relayStylePagination } from '@apollo/client/utilities/index.js';
import { TOKEN, URL, assert, check, post, query, seed, sha256, short } from './lib.mjs';

const mode = process.argv[2];

/** A fetch that records what Apollo sent and what came back. */
function recordingFetch() {
  const calls = [];
  const fetchFn = async (input, init = {}) => {
    const url = new globalThis.URL(typeof input === 'string' ? input : input.url);
    const method = (init.method ?? 'GET').toUpperCase();
    const payload =
      method === 'GET'
        ? {
            query: url.searchParams.get('query') ?? undefined,
            extensions: url.searchParams.has('extensions')
              ? JSON.parse(url.searchParams.get('extensions'))
              : undefined,
          }
        : JSON.parse(init.body);
    const response = await fetch(input, init);
    const text = await response.clone().text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    calls.push({ method, url: url.href, payload, status: response.status, body });
    return response;
  };
  return { calls, fetchFn };
}

function client({ typePolicies = {}, links = [], fetchFn = fetch } = {}) {
  const http = new HttpLink({ uri: URL, fetch: fetchFn, headers: { authorization: `Bearer ${TOKEN}` } });
  return new ApolloClient({
    link: links.reduceRight((next, link) => link.concat(next), http),
    cache: new InMemoryCache({ typePolicies }),
  });
}

const ORG_POSTS = gql`
  query ApolloOrgPosts($slug: String!, $first: Int!, $after: String) {
    organization(slug: $slug) {
      id
      name
      posts(first: $first, after: $after) {
        totalCount
        edges {
          cursor
          node {
            id
            title
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;

const paginated = { Organization: { fields: { posts: relayStylePagination(['filter', 'orderBy']) } } };

async function serverTitles(slug, first) {
  const data = await query(`query($slug: String!, $first: Int!) {
    organization(slug: $slug) { posts(first: $first) { totalCount edges { node { title } } } }
  }`, { slug, first });
  return data.organization.posts;
}

async function pagination() {
  const { orgSlug } = seed();
  const apollo = client({ typePolicies: paginated });
  const variables = { slug: orgSlug, first: 2 };
  const page1 = await apollo.query({ query: ORG_POSTS, variables });
  assert(!page1.errors, `page 1: ${short(page1.errors)}`);
  const { pageInfo } = page1.data.organization.posts;
  assert(pageInfo.hasNextPage && pageInfo.endCursor, `page 1 pageInfo: ${short(pageInfo)}`);
  const observable = apollo.watchQuery({ query: ORG_POSTS, variables });
  await observable.result();
  const more = await observable.fetchMore({ variables: { after: pageInfo.endCursor } });
  assert(!more.errors && more.data.organization.posts.edges.length === 2, `page 2: ${short(more)}`);
  const merged = apollo.readQuery({ query: ORG_POSTS, variables }).organization.posts;
  const titles = merged.edges.map((e) => e.node.title);
  const expected = (await serverTitles(orgSlug, 4)).edges.map((e) => e.node.title);
  assert(
    JSON.stringify(titles) === JSON.stringify(expected),
    `merged edges ${short(titles)}, expected the server's first four ${short(expected)}`,
  );
  assert(merged.pageInfo.endCursor === more.data.organization.posts.pageInfo.endCursor, 'merged endCursor is not page 2’s');
  console.log(`merged ${titles.length} edges: ${titles.join(', ')}`);
}

async function mutation() {
  const { orgSlug, aliceId } = seed();
  const apollo = client({ typePolicies: paginated });
  const variables = { slug: orgSlug, first: 3 };
  const before = (await apollo.query({ query: ORG_POSTS, variables })).data.organization;
  const title = `Apollo post ${Date.now()}`;
  const result = await apollo.mutate({
    mutation: gql`
      mutation ApolloCreatePost($input: CreatePostInput!) {
        createPost(input: $input) {
          id
          title
        }
      }
    `,
    variables: { input: { title, status: 'PUBLISHED', authorId: aliceId } },
    update(cache, { data }) {
      cache.modify({
        id: cache.identify({ __typename: 'Organization', id: before.id }),
        fields: {
          posts(existing, { toReference }) {
            const node = toReference(data.createPost);
            return {
              ...existing,
              totalCount: existing.totalCount + 1,
              edges: [{ __typename: 'PostEdge', cursor: '', node }, ...existing.edges],
            };
          },
        },
      });
    },
  });
  assert(!result.errors && result.data.createPost.title === title, `createPost: ${short(result)}`);
  const cached = apollo.readQuery({ query: ORG_POSTS, variables }).organization.posts;
  assert(cached.edges[0].node.id === result.data.createPost.id, `cache's first edge: ${short(cached.edges[0])}`);
  assert(cached.edges[0].node.title === title, 'the cached new post has the wrong title');
  assert(cached.totalCount === before.posts.totalCount + 1, `cached totalCount ${cached.totalCount}`);
  const server = await serverTitles(orgSlug, 1);
  assert(server.edges[0].node.title === title && server.totalCount === cached.totalCount, `server: ${short(server)}`);
}

async function apq(useGET) {
  const { calls, fetchFn } = recordingFetch();
  const link = createPersistedQueryLink({ sha256, useGETForHashedQueries: useGET });
  // A query text no earlier run has registered: the first request must be a miss.
  const nonce = `n${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const document = gql`query Apq${useGET ? 'Get' : 'Post'} { ${nonce}: __typename organizations(first: 1) { totalCount } }`;
  const method = useGET ? 'GET' : 'POST';
  const describe = () =>
    calls
      .map((c) => {
        const hashed = c.payload.extensions?.persistedQuery?.sha256Hash ? 'yes' : 'no';
        const where = c.method === 'GET' ? ` ${new globalThis.URL(c.url).search.slice(0, 160)}` : '';
        return `${c.method}${where} query:${c.payload.query ? 'yes' : 'no'} hash:${hashed} -> HTTP ${c.status} ${short(c.body, 200)}`;
      })
      .join('\n  ');
  const run = async () => {
    // A new client each time: the cache must not answer, the link and the server must.
    let result;
    try {
      result = await client({ links: [link], fetchFn }).query({ query: document, fetchPolicy: 'no-cache' });
    } catch (error) {
      throw new Error(`Apollo: ${error.message}; requests:\n  ${describe()}`);
    }
    assert(!result.errors && result.data.organizations.totalCount >= 1, `result: ${short(result)}`);
  };

  await run();
  assert(calls.length === 2, `first run: expected a miss and a retry, saw ${calls.length} requests:\n  ${describe()}`);
  const [miss, retry] = calls;
  assert(miss.method === method && !miss.payload.query, `the miss was not a hash-only ${method}:\n  ${describe()}`);
  assert(
    miss.status === 200 && miss.body?.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND',
    `the miss was not HTTP 200 with PERSISTED_QUERY_NOT_FOUND:\n  ${describe()}`,
  );
  assert(retry.method === 'POST' && retry.payload.query, `the retry did not POST the query:\n  ${describe()}`);
  assert(retry.status === 200 && retry.body?.data && !retry.body.errors, `the retry failed:\n  ${describe()}`);
  const hash = retry.payload.extensions?.persistedQuery?.sha256Hash;
  assert(hash === sha256(retry.payload.query), 'the retry did not carry the SHA-256 of its query');
  assert(miss.payload.extensions?.persistedQuery?.sha256Hash === hash, 'the miss and the retry carried different hashes');

  await run();
  assert(calls.length === 3, `second run: expected one request, saw ${calls.length - 2}:\n  ${describe()}`);
  const hit = calls[2];
  assert(hit.method === method && !hit.payload.query, `the hit was not a hash-only ${method}:\n  ${describe()}`);
  assert(hit.payload.extensions?.persistedQuery?.sha256Hash === hash, 'the hit carried another hash');
  assert(hit.status === 200 && hit.body?.data && !hit.body.errors, `the hit failed:\n  ${describe()}`);
  console.log(`  ${describe()}`);
}

async function apqMismatch() {
  const text = `query ApqMismatch { mismatch${Date.now()}: __typename }`;
  const wrong = sha256(`${text} `);
  const { status, body } = await post({
    query: text,
    extensions: { persistedQuery: { version: 1, sha256Hash: wrong } },
  }, { headers: { accept: 'application/json' } });
  const code = body?.errors?.[0]?.extensions?.code;
  assert(code === 'BAD_USER_INPUT', `expected BAD_USER_INPUT, got HTTP ${status}: ${short(body)}`);
  assert(!body.data, `the query ran anyway: ${short(body)}`);
  // The refused pair must not have been stored: the hash alone is still unknown.
  const again = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } }, { headers: { accept: 'application/json' } });
  assert(
    again.body?.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND',
    `the mismatched hash was stored: HTTP ${again.status}: ${short(again.body)}`,
  );
  console.log(`mismatch: HTTP ${status} ${short(body, 200)}`);
}

const modes = {
  pagination,
  mutation,
  'apq-post': () => apq(false),
  'apq-get': () => apq(true),
  'apq-mismatch': apqMismatch,
};
if (!modes[mode]) {
  console.error(`usage: node apollo.mjs ${Object.keys(modes).join('|')}`);
  process.exit(2);
}
await check(modes[mode]);
