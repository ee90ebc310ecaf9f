// The subscription load: SUBSCRIBERS graphql-ws clients (one connection each, spread
// over the instances in URLS and over ORGS organizations, anonymous), while RATE
// createPost mutations per second (published, so every subscriber of the organization
// receives its PUBLISHED event) go to the instances in turn for DURATION seconds.
// Prints one JSON line: events expected and delivered, and the commit-to-delivery latency
// (receive time minus the event's occurredAt, one machine's clock) p50 / p99 / max.
//
// Environment: URLS (comma-separated http://host:port), TOKEN (platform admin),
// ORGS (JSON [{id, authorId}]), SUBSCRIBERS (1000), RATE (100), DURATION (30).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The clients the CI checks pin (.ci/clients/package.json).
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', '.ci', 'clients', 'package.json'));
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

const urls = process.env.URLS.split(',');
const token = process.env.TOKEN;
const orgs = JSON.parse(process.env.ORGS);
const subscribers = Number(process.env.SUBSCRIBERS ?? 1000);
const rate = Number(process.env.RATE ?? 100);
const duration = Number(process.env.DURATION ?? 30);

const QUERY = `subscription($org: ID) { postEvents(organizationId: $org) { kind postId occurredAt } }`;
const latencies = [];
let delivered = 0;
let errors = 0;
const live = new Set();
const clients = [];

for (let i = 0; i < subscribers; i += 1) {
  const org = orgs[i % orgs.length];
  const url = urls[i % urls.length].replace(/^http/, 'ws') + '/graphql/ws';
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  clients.push(client);
  client.subscribe(
    { query: QUERY, variables: { org: String(org.id) } },
    {
      next: (r) => {
        if (r.errors) {
          errors += 1;
          return;
        }
        live.add(i);
        const e = r.data.postEvents;
        if (e.kind !== 'PUBLISHED') return;
        delivered += 1;
        latencies.push(Date.now() - Date.parse(e.occurredAt));
      },
      error: () => {
        errors += 1;
      },
      complete: () => {},
    },
  );
}

async function createPost(n, warm) {
  const org = orgs[n % orgs.length];
  const url = urls[n % urls.length] + '/graphql';
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation($i: CreatePostInput!) { createPost(input: $i) { id } }',
      variables: { i: { title: `${warm ? 'warm' : 'load'} ${n}`, status: 'PUBLISHED', authorId: String(org.authorId) } },
    }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
}

// Warm up until every subscriber has received an event (they are then live).
for (let n = 0; live.size < subscribers; n += 1) {
  if (n > 2000) throw new Error(`only ${live.size} of ${subscribers} subscribers went live`);
  await createPost(n, true);
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 1000));
latencies.length = 0;
delivered = 0;

const perOrg = subscribers / orgs.length;
const started = Date.now();
let sent = 0;
let failed = 0;
const inflight = [];
while (Date.now() - started < duration * 1000) {
  const due = Math.floor(((Date.now() - started) / 1000) * rate);
  while (sent < due) {
    const n = sent;
    sent += 1;
    inflight.push(createPost(n, false).catch(() => (failed += 1)));
  }
  await new Promise((r) => setTimeout(r, 2));
}
await Promise.all(inflight);
await new Promise((r) => setTimeout(r, 3000));
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
console.log(
  JSON.stringify({
    subscribers,
    instances: urls.length,
    organizations: orgs.length,
    mutations: sent,
    mutations_failed: failed,
    mutations_per_s: +(sent / duration).toFixed(1),
    events_expected: (sent - failed) * perOrg,
    events_delivered: delivered,
    subscription_errors: errors,
    latency_ms: { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] },
  }),
);
for (const c of clients) c.dispose();
process.exit(0);
