// graphql-js's standard introspection query, every option on, under the server's
// default limits; then buildClientSchema + printSchema.
//   node introspection.mjs [graphql|graphql17]     the graphql-js to use (default graphql, 16.x)
//   node introspection.mjs graphql --descriptions  instead: every type, field, argument,
//       input field and enum value (outside introspection and the built-in scalars)
//       has a non-empty description; prints those that have none.
import { writeFileSync } from 'node:fs';
import { WORK_DIR, assert, check, post, short } from './lib.mjs';
import { OPTIONS } from './introspection-options.mjs';

const pkg = process.argv[2] ?? 'graphql';
const descriptionsMode = process.argv.includes('--descriptions');
const graphql = await import(pkg);

const BUILTIN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

await check(async () => {
  const source = graphql.getIntrospectionQuery(OPTIONS);
  const { status, body } = await post({ query: source, operationName: 'IntrospectionQuery' });
  assert(
    status === 200 && body?.data?.__schema && !body.errors,
    `introspection query (graphql ${graphql.version}) failed: HTTP ${status}: ${short(body)}`,
  );
  const schema = graphql.buildClientSchema(body.data);
  const sdl = graphql.printSchema(schema);
  assert(sdl.includes('interface Node'), 'the printed schema has no `interface Node`');
  writeFileSync(`${WORK_DIR}/schema.${pkg}.graphql`, sdl);

  if (!descriptionsMode) {
    const types = body.data.__schema.types.filter((t) => !t.name.startsWith('__'));
    console.log(`graphql ${graphql.version}: ${types.length} types, ${sdl.length} bytes of SDL`);
    return;
  }

  const missing = [];
  const blank = (d) => typeof d !== 'string' || d.trim() === '';
  for (const type of body.data.__schema.types) {
    if (type.name.startsWith('__') || BUILTIN_SCALARS.has(type.name)) continue;
    if (blank(type.description)) missing.push(`type ${type.name}`);
    for (const field of type.fields ?? []) {
      if (blank(field.description)) missing.push(`field ${type.name}.${field.name}`);
      for (const arg of field.args ?? []) {
        if (blank(arg.description)) missing.push(`argument ${type.name}.${field.name}(${arg.name}:)`);
      }
    }
    for (const field of type.inputFields ?? []) {
      if (blank(field.description)) missing.push(`input field ${type.name}.${field.name}`);
    }
    for (const value of type.enumValues ?? []) {
      if (blank(value.description)) missing.push(`enum value ${type.name}.${value.name}`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`${missing.length} schema elements have no description:\n  ${missing.join('\n  ')}`);
  }
});
