// Writes LICENSES.txt for the bundle: every npm package that esbuild put into
// dist/ (read from esbuild's metafile), with its version, its licence and the
// licence text the package ships. Sorted, so the output is deterministic.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const meta = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const roots = new Set();
for (const input of Object.keys(meta.inputs)) {
  const match = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  if (match) roots.add(match[1]);
}

const packages = [...roots].map((root) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const licence = typeof pkg.license === 'string' ? pkg.license : JSON.stringify(pkg.license ?? pkg.licenses);
  const file = readdirSync(root)
    .filter((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name))
    .sort()[0];
  const text = file ? readFileSync(join(root, file), 'utf8').trim() : null;
  return { name: pkg.name, version: pkg.version, licence, file, text };
});
packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const lines = [
  'Third-party software in blogql\'s GraphiQL bundle (graphiql.js, graphiql.css).',
  'Built by assets/graphiql/build.sh from the versions pinned in package-lock.json.',
  'esbuild (MIT) bundles them and adds its small runtime helpers.',
  'graphiql.css embeds, as data: URLs, the fonts Roboto and Fira Code that',
  '@graphiql/react ships (font licences: Fira Code SIL OFL 1.1; Roboto Apache-2.0,',
  'and SIL OFL 1.1 from its 2023 releases on).',
  'src/csp-style-singleton.js is blogql\'s own stand-in for react-style-singleton.',
  '',
  ...packages.map((p) => `${p.name}@${p.version}  ${p.licence}`),
];
for (const p of packages) {
  lines.push('', '='.repeat(78), `${p.name}@${p.version}  ${p.licence}`, '='.repeat(78), '');
  lines.push(p.text ?? `(the package ships no licence file; package.json says ${p.licence})`);
}
process.stdout.write(lines.join('\n') + '\n');
