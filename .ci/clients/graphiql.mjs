// GraphiQL in Debian's headless Chromium, with no internet: every request whose host
// is not 127.0.0.1 / localhost is aborted and counted, and any such request fails the
// check (every asset must be served by blogql itself). Opens GET /graphql as a browser
// does (Accept: text/html), waits for GraphiQL, puts the Authorization header into the
// headers editor, types a query into the query editor, runs it (Ctrl-Enter), waits for
// the result (which needs the token),
// opens the documentation explorer (which needs introspection), runs a subscription
// (graphql-ws on /graphql/ws) and sees the event of a post published meanwhile, and saves
// a screenshot to $SCREENSHOT (default ./graphiql.png).
//
// Debugging only: GRAPHIQL_DEBUG_UNPKG=<node_modules dir> answers unpkg.com requests
// from that folder (e.g. graphiql@4, react@18, react-dom@18 installed there), to try the
// editor steps against a CDN page. Those requests still count as blocked: the check
// still fails.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { TOKEN, URL, assert, check, query, seed } from './lib.mjs';

const SCREENSHOT = process.env.SCREENSHOT ?? './graphiql.png';
// `plan` needs sign-in: the answer shows that the headers editor's token was sent.
const QUERY = '{\n  organizations(first: 1) {\n    totalCount\n    nodes { name plan }\n  }\n}';
const HEADERS = JSON.stringify({ Authorization: `Bearer ${TOKEN}` });
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const debugUnpkg = process.env.GRAPHIQL_DEBUG_UNPKG;
const STEP_MS = 20_000;

const blocked = [];
const pageErrors = [];
const steps = [];

function step(name) {
  steps.push(name);
}

/** Text of the editor inside `container`: CodeMirror 5 (GraphiQL ≤ 4) or Monaco (GraphiQL 5). */
async function editorText(container) {
  return container.evaluate((el) => {
    const cm = el.querySelector('.CodeMirror');
    if (cm?.CodeMirror) return cm.CodeMirror.getValue();
    const monaco = el.querySelector('.monaco-editor .view-lines');
    if (monaco) return monaco.innerText.replace(/\u00a0/g, ' ');
    return el.innerText;
  });
}

/** Types `text` into the editor inside `container`, replacing what it held. */
async function typeInto(page, container, text) {
  let target = container.locator('.CodeMirror-lines');
  if ((await target.count()) === 0) target = container.locator('.monaco-editor .view-lines');
  if ((await target.count()) === 0) target = container.locator('textarea, [contenteditable]');
  await target.first().click({ timeout: STEP_MS });
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  // insertText types the text as one input event: editors' auto-closing of brackets
  // and quotes (which reacts to single key presses) leaves it as it is.
  await page.keyboard.insertText(text);
  const squash = (s) => s.replace(/\s+/g, '');
  const got = await editorText(container);
  assert(squash(got) === squash(text), `the editor holds ${JSON.stringify(got)} instead of ${JSON.stringify(text)}`);
}

async function main() {
  assert(existsSync('/usr/bin/chromium'), '/usr/bin/chromium is missing (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'blogql-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // A second wall behind page routing: no host but loopback resolves at all.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
  try {
    await context.route('**/*', async (route) => {
      const url = new globalThis.URL(route.request().url());
      if (LOOPBACK.has(url.hostname)) return route.continue();
      blocked.push(url.href);
      if (debugUnpkg && url.hostname === 'unpkg.com') {
        const [, pkg, rest] = url.pathname.match(/^\/((?:@[^/]+\/)?[^@/]+)(?:@[^/]*)?\/(.*)$/) ?? [];
        const file = pkg && join(debugUnpkg, pkg, rest);
        if (file && existsSync(file)) {
          const type = file.endsWith('.css') ? 'text/css' : 'application/javascript';
          return route.fulfill({ status: 200, contentType: type, body: readFileSync(file) });
        }
      }
      return route.abort('blockedbyclient');
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(`${error.message}`.split('\n')[0]));
    page.on('console', (msg) => msg.type() === 'error' && pageErrors.push(`console: ${msg.text().split('\n')[0].slice(0, 200)}`));
    try {
      const response = await page.goto(URL, { waitUntil: 'load', timeout: STEP_MS });
      step(`GET ${URL}: HTTP ${response?.status()} ${response?.headers()['content-type'] ?? ''}`);
      assert(response?.ok() && /text\/html/.test(response.headers()['content-type'] ?? ''), 'the page is not HTML');

      // Wait for GraphiQL; give up early when blocked assets have already broken the page.
      const root = page.locator('.graphiql-container');
      const since = Date.now();
      while (!(await root.isVisible())) {
        const broken = blocked.length > 0 && pageErrors.length > 0 && Date.now() - since > 3000;
        assert(!broken && Date.now() - since < STEP_MS, 'GraphiQL did not render');
        await page.waitForTimeout(200);
      }
      step('GraphiQL rendered');

      const tools = page.locator('.graphiql-editor-tools');
      await tools.getByRole('button', { name: 'Headers' }).click({ timeout: STEP_MS });
      const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)').last();
      await typeInto(page, headersEditor, HEADERS);
      step('headers editor holds the Authorization header');

      const queryEditor = page.locator('.graphiql-query-editor .graphiql-editor').first();
      await typeInto(page, queryEditor, QUERY);
      step('query typed');
      // GraphiQL re-reads the operation (and its name) from the editor after a short
      // debounce; run it only after that, as a person would, or it may send the
      // previous query's operationName.
      await page.waitForTimeout(600);

      // The result pane may already hold something (GraphiQL shows a failed schema
      // fetch there): wait for a new JSON answer.
      const result = page.locator('.graphiql-response');
      const before = await editorText(result);
      await page.keyboard.press('Control+Enter');
      let text = before;
      let parsed;
      for (const since = Date.now(); !parsed; await page.waitForTimeout(200)) {
        text = await editorText(result);
        try {
          const json = text !== before && JSON.parse(text);
          if (json && (json.data || json.errors)) parsed = json;
        } catch {
          // not yet complete
        }
        assert(Date.now() - since < STEP_MS, `no answer in the result pane; it shows ${JSON.stringify(text.slice(0, 300))}`);
      }
      assert(
        !parsed.errors &&
          Number.isInteger(parsed.data?.organizations?.totalCount) &&
          typeof parsed.data.organizations.nodes?.[0]?.plan === 'string',
        `the result pane shows ${text.slice(0, 300)}`,
      );
      step(`result: totalCount ${parsed.data.organizations.totalCount}`);

      await page.getByRole('button', { name: /Show Documentation Explorer/i }).click({ timeout: STEP_MS });
      const docs = page.locator('.graphiql-doc-explorer');
      try {
        await docs.getByText('Query', { exact: true }).first().click({ timeout: STEP_MS });
        await docs.getByText('organizations', { exact: true }).first().waitFor({ timeout: STEP_MS });
      } catch {
        const shown = (await docs.innerText().catch(() => '(no documentation explorer)')).slice(0, 300);
        throw new Error(`the documentation explorer does not show Query.organizations: ${JSON.stringify(shown)}`);
      }
      step('documentation explorer shows Query.organizations');

      // A subscription: the result pane shows each event as it comes.
      const s = seed();
      await typeInto(page, queryEditor, `subscription {\n  postEvents(organizationId: "${s.orgId}") {\n    kind\n    post { title }\n  }\n}`);
      await page.waitForTimeout(600);
      await page.keyboard.press('Control+Enter');
      step('subscription started');
      let event;
      for (let i = 0; !event; i += 1) {
        assert(i < 40, `no event in the result pane; it shows ${JSON.stringify((await editorText(result)).slice(0, 300))}`);
        await query(`mutation($i: CreatePostInput!) { createPost(input: $i) { id } }`, {
          i: { title: `GraphiQL live ${i}`, status: 'PUBLISHED', authorId: s.aliceId },
        });
        await page.waitForTimeout(500);
        try {
          const json = JSON.parse(await editorText(result));
          if (json?.data?.postEvents?.kind === 'PUBLISHED') event = json.data.postEvents;
        } catch {
          // not an event yet
        }
      }
      step(`subscription event: ${event.kind} ${event.post?.title}`);
    } finally {
      await page.screenshot({ path: SCREENSHOT }).catch((e) => pageErrors.push(`screenshot: ${e.message}`));
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

await check(async () => {
  let failure;
  try {
    await main();
  } catch (error) {
    failure = error;
  }
  console.log(`steps done:\n  ${steps.join('\n  ') || '(none)'}`);
  if (pageErrors.length) console.log(`page errors:\n  ${[...new Set(pageErrors)].slice(0, 10).join('\n  ')}`);
  if (blocked.length) {
    console.log(`blocked ${blocked.length} non-loopback requests:\n  ${[...new Set(blocked)].join('\n  ')}`);
  }
  if (failure) throw failure;
  assert(blocked.length === 0, `the page needed ${blocked.length} non-loopback requests (see above)`);
});
