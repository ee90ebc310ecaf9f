#!/usr/bin/env bash
# Rebuilds dist/ (graphiql.js, graphiql.css, index.html, LICENSES.txt), the GraphiQL
# bundle that blogql embeds in its binary with include_bytes!. Needs Node.js >= 20 and
# npm; only the maintainer who changes a version runs it, `cargo build` never does.
# Reproducible: `npm ci` installs exactly package-lock.json, esbuild's output depends
# only on its inputs, and no timestamp or absolute path goes into dist/, so two runs
# give the same bytes (check with `sha256sum dist/*`).
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C TZ=UTC

npm ci --no-audit --no-fund --loglevel=error

rm -rf dist
mkdir -p dist
# One script and one stylesheet: the fonts and icons of GraphiQL's stylesheet are
# already data: URLs; `--loader:.woff2=dataurl` etc. would inline any that were not.
node_modules/.bin/esbuild src/main.jsx \
  --bundle \
  --minify \
  --format=iife \
  --target=es2020 \
  --jsx=automatic \
  --alias:react-style-singleton=./src/csp-style-singleton.js \
  --define:process.env.NODE_ENV='"production"' \
  --legal-comments=none \
  --charset=utf8 \
  --loader:.woff=dataurl --loader:.woff2=dataurl --loader:.ttf=dataurl \
  --loader:.png=dataurl --loader:.svg=dataurl \
  --banner:js='/*! blogql GraphiQL bundle. Third-party licences: /graphiql/LICENSES.txt */' \
  --metafile=node_modules/.blogql-meta.json \
  --log-level=warning \
  --outfile=dist/graphiql.js

# Nothing may load from the network: no remote url(), no @import.
if grep -Eo 'url\(["'\'']?[^"'\'')]*' dist/graphiql.css | grep -Ev 'url\(["'\'']?(data:|#)' ; then
  echo "build.sh: dist/graphiql.css refers to a URL that is not a data: URL" >&2
  exit 1
fi
if grep -q '@import' dist/graphiql.css; then
  echo "build.sh: dist/graphiql.css has an @import" >&2
  exit 1
fi

# The page, with each asset's content hash in its URL so that it can be cached forever.
js_hash=$(sha256sum dist/graphiql.js | cut -c1-16)
css_hash=$(sha256sum dist/graphiql.css | cut -c1-16)
sed -e "s/@JS_HASH@/$js_hash/" -e "s/@CSS_HASH@/$css_hash/" src/index.html > dist/index.html

node licenses.mjs node_modules/.blogql-meta.json > dist/LICENSES.txt

sha256sum dist/*
