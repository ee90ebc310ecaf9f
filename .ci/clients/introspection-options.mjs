// The options of graphql-js's getIntrospectionQuery that API.md means by
// "every option on" (all that graphql 16 and 17 support, less the experimental one).
export const OPTIONS = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
};
