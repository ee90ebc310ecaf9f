// blogql's GraphiQL page. Bundled by build.sh into dist/graphiql.js; the page that
// blogql serves (src/http/graphiql.rs) has no inline script, so all start-up code is
// here and the page works under `script-src 'self'`.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './page.css';

// Shown in the Headers tab. Never a real token: the page is the same for everyone.
const HEADERS_HINT = '{"Authorization": "Bearer <paste the development token printed by cargo run>"}';

const DEFAULT_QUERY = `# Welcome to blogql. To sign in, put the development
# token that \`cargo run\` prints in the Headers tab below.
# Signed out, you see the active organizations.
query Organizations {
  organizations(first: 5) {
    totalCount
    nodes {
      id
      name
      slug
    }
  }
}
`;

const wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
const subscriptionUrl = `${wsScheme}//${window.location.host}/graphql/ws`;

// graphql-ws connects only when a subscription runs, so the page works without the
// endpoint; a subscription then answers with the error below.
const fetcher = createGraphiQLFetcher({ url: '/graphql', subscriptionUrl });

// The hint is not a token: while it is still in the Headers tab, send no
// Authorization header (nor connection parameter) rather than an invalid one that
// would make every request, introspection included, fail with UNAUTHENTICATED.
function withoutPlaceholder(headers) {
  if (!headers) return headers;
  const rest = { ...headers };
  for (const name of Object.keys(rest)) {
    const value = rest[name];
    if (name.toLowerCase() === 'authorization' && typeof value === 'string' && /<[^>]*>/.test(value)) {
      delete rest[name];
    }
  }
  return rest;
}

// A WebSocket that cannot connect fails with a bare DOM Event, which GraphiQL would
// show as `{"isTrusted": true}`, and an Error would be shown with its stack: show a
// message instead (GraphQL errors, an array, as they are). `return` is passed
// straight through so that GraphiQL's stop button ends the subscription at once.
function explained(results) {
  const inner = results[Symbol.asyncIterator]();
  const readable = (error) => {
    if (Array.isArray(error)) return error;
    if (error instanceof Error) return { message: error.message };
    if (error && typeof error.message === 'string') return error;
    return { message: `Cannot connect to ${subscriptionUrl} for subscriptions` };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () =>
      inner.next().catch((error) => {
        throw readable(error);
      }),
    return: (value) => (inner.return ? inner.return(value) : Promise.resolve({ done: true, value })),
  };
}

const blogqlFetcher = async (params, opts) => {
  const result = await fetcher(params, opts && { ...opts, headers: withoutPlaceholder(opts.headers) });
  return result && typeof result[Symbol.asyncIterator] === 'function' ? explained(result) : result;
};

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={blogqlFetcher}
    defaultQuery={DEFAULT_QUERY}
    defaultHeaders={HEADERS_HINT}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
  />,
);
