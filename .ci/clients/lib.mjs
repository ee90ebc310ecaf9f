// Shared by the checks: where the server is, the admin token, a raw GraphQL POST,
// and the seed that run.sh wrote. Every check exits 0 on success and non-zero
// (printing why) on failure; run.sh prints the PASS/FAIL line.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const URL = required('BLOGQL_URL'); // http://127.0.0.1:PORT/graphql
export const TOKEN = process.env.BLOGQL_TOKEN ?? '';
export const WORK_DIR = process.env.WORK_DIR ?? '.';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set (run .ci/clients/run.sh)`);
    process.exit(2);
  }
  return value;
}

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** POST a GraphQL request; returns { status, body } (body parsed when it is JSON). */
export async function post(payload, { token = TOKEN, headers = {} } = {}) {
  const response = await fetch(URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

/** POST a query and insist on data with no errors; returns data. */
export async function query(text, variables = {}, options = {}) {
  const { status, body } = await post({ query: text, variables }, options);
  if (status !== 200 || typeof body !== 'object' || body.errors || !body.data) {
    throw new Error(`HTTP ${status}: ${short(body)}`);
  }
  return body.data;
}

export function short(value, max = 600) {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function seed() {
  return JSON.parse(readFileSync(`${WORK_DIR}/seed.json`, 'utf8'));
}

/** Runs a check's body: prints the reason and exits 1 on failure. */
export async function check(body) {
  try {
    await body();
  } catch (error) {
    const text = process.env.DEBUG ? `${error?.stack ?? error}` : `${error?.message ?? error}`;
    console.error(text.replace(/\x1b\[[0-9;]*m/g, '')); // eslint-disable-line no-control-regex
    process.exit(1);
  }
}
