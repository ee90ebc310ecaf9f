// A subscription: relay-compiler must accept the schema's Subscription type; ws.mjs runs
// the compiled text over graphql-ws.
graphql`
  subscription PostEventsSubscription($organizationId: ID, $after: String) {
    postEvents(organizationId: $organizationId, after: $after) {
      cursor
      kind
      postId
      post {
        id
        title
        status
      }
      occurredAt
    }
  }
`;
