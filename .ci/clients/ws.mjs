// graphql-ws (the reference graphql-transport-ws client, as Apollo's GraphQLWsLink and
// GraphiQL use it) on /graphql/ws: a member's subscription (the text relay-compiler
// compiled, when relay.mjs ran first) sees a draft created then published; an anonymous
// subscriber sees only the PUBLISHED event; a resumed subscription replays what it missed;
// a bad token is refused with 4403.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { WORK_DIR, assert, check, query, seed, short } from './lib.mjs';

const WS_URL = process.env.BLOGQL_URL.replace(/^http/, 'ws') + '/ws';
const FALLBACK = `subscription PostEventsSubscription($organizationId: ID, $after: String) {
  postEvents(organizationId: $organizationId, after: $after) { cursor kind postId post { id title status } occurredAt }
}`;

function subscriptionText() {
  try {
    const text = readFileSync(`${WORK_DIR}/relay-subscription.graphql`, 'utf8');
    if (text.trim()) return text;
  } catch {}
  return FALLBACK;
}

function client(token, onClosed) {
  return createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
    on: { closed: (event) => onClosed?.(event) },
  });
}

/** Subscribes and collects events; `next(n)` waits for n of them. */
function collect(c, variables) {
  const events = [];
  const waiters = [];
  const errors = [];
  const dispose = c.subscribe(
    { query: subscriptionText(), variables },
    {
      next: (r) => {
        if (r.errors) errors.push(r.errors);
        else events.push(r.data.postEvents);
        waiters.splice(0).forEach((w) => w());
      },
      error: (e) => errors.push(e),
      complete: () => {},
    },
  );
  const next = async (n, ms = 10000) => {
    const deadline = Date.now() + ms;
    while (events.length < n) {
      assert(errors.length === 0, `subscription errors: ${short(errors)}`);
      assert(Date.now() < deadline, `waited for ${n} events, got ${short(events)}`);
      await new Promise((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return events.slice(0, n);
  };
  return { events, next, dispose };
}

const token = (user) => {
  const bin = process.env.BLOGQL_BIN;
  const out = spawnSync(bin, ['token', '--user', user, '--jwt-secret', process.env.BLOGQL_JWT_SECRET, '--ttl', '1h'], {
    encoding: 'utf8',
  });
  assert(out.status === 0, `blogql token failed: ${out.stderr}`);
  return out.stdout.trim();
};

await check(async () => {
  const s = seed();
  const aliceDb = Buffer.from(s.aliceId, 'base64').toString().split(':')[1];
  const member = client(token(aliceDb));
  const anonymous = client(null);
  const mine = collect(member, {});
  const pub = collect(anonymous, { organizationId: s.orgId });
  // Live once a marker arrives (a subscription starts a moment after `subscribe`).
  for (let i = 0; ; i += 1) {
    assert(i < 20, 'the subscriptions never went live');
    await query(`mutation($i: CreatePostInput!) { createPost(input: $i) { id } }`, {
      i: { title: `ws marker ${i}`, status: 'PUBLISHED', authorId: s.aliceId },
    });
    await new Promise((r) => setTimeout(r, 300));
    const seen = (list) => list.events.some((e) => e.kind === 'PUBLISHED' && e.post?.title === `ws marker ${i}`);
    if (seen(mine) && seen(pub)) break;
  }
  const [m0, p0] = [mine.events.length, pub.events.length];
  const { createPost } = await query(`mutation($i: CreatePostInput!) { createPost(input: $i) { id } }`, {
    i: { title: 'ws draft', status: 'DRAFT', authorId: s.aliceId },
  });
  await query(`mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }`, {
    i: { id: createPost.id, status: 'PUBLISHED' },
  });
  const memberSaw = (await mine.next(m0 + 2)).slice(m0).map((e) => `${e.kind}:${e.postId === createPost.id}`);
  assert(short(memberSaw) === short(['CREATED:true', 'PUBLISHED:true']), `member saw ${short(memberSaw)}`);
  const publicSaw = (await pub.next(p0 + 1)).slice(p0);
  assert(publicSaw[0].kind === 'PUBLISHED' && publicSaw[0].post.title === 'ws draft', `anonymous saw ${short(publicSaw)}`);
  await new Promise((r) => setTimeout(r, 300));
  assert(pub.events.length === p0 + 1, `anonymous saw the draft's CREATED: ${short(pub.events.slice(p0))}`);

  // Resume: a new subscription after the CREATED cursor replays the PUBLISHED.
  const cursor = mine.events[m0].cursor;
  const resumed = collect(member, { after: cursor });
  const [replayed] = await resumed.next(1);
  assert(replayed.kind === 'PUBLISHED' && replayed.postId === createPost.id, `replayed ${short(replayed)}`);
  mine.dispose();
  pub.dispose();
  resumed.dispose();
  await member.dispose();
  await anonymous.dispose();

  // A bad token: closed with 4403, never anonymous.
  const code = await new Promise((resolve) => {
    const bad = client('not-a-token', (event) => resolve(event.code));
    bad.subscribe({ query: subscriptionText(), variables: {} }, { next() {}, error() {}, complete() {} });
  });
  assert(code === 4403, `a bad token closed with ${code}, expected 4403`);
});
