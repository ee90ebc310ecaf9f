// A mutation whose new post Relay prepends to the OrgPosts_posts connection.
graphql`
  mutation CreatePostMutation($input: CreatePostInput!, $connections: [ID!]!) {
    createPost(input: $input) @prependNode(connections: $connections, edgeTypeName: "PostEdge") {
      id
      title
      ...PostCard_post
    }
  }
`;
