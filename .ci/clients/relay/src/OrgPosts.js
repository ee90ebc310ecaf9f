// A paginated @connection fragment on Organization.posts, with its root query.
// Never executed: relay-compiler reads the graphql tags.
graphql`
  query OrgPostsQuery($slug: String!) {
    organization(slug: $slug) {
      name
      ...OrgPosts_organization
    }
  }
`;

graphql`
  fragment OrgPosts_organization on Organization
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" })
  @refetchable(queryName: "OrgPostsPaginationQuery") {
    posts(first: $count, after: $cursor) @connection(key: "OrgPosts_posts") {
      totalCount
      edges {
        node {
          id
          ...PostCard_post
        }
      }
    }
  }
`;
