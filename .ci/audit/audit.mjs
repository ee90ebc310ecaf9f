// Runs graphql-http's GraphQL-over-HTTP server audits against a running blogql.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
// Exits non-zero on any MUST failure; prints every SHOULD/MAY result.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

let mustFailures = 0;
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  counts[result.status] += 1;
  if (result.status === 'ok') {
    console.log(`ok    ${audit.name}`);
  } else {
    console.log(`${result.status.padEnd(5)} ${audit.name}\n      ${result.reason}`);
    if (audit.name.startsWith('MUST')) mustFailures += 1;
  }
}
console.log(`\n${JSON.stringify(counts)}; MUST failures: ${mustFailures}`);
process.exit(mustFailures === 0 ? 0 : 1);
