// A @refetchable fragment on a Node type (Post): Relay refetches it through Query.node.
graphql`
  fragment PostCard_post on Post @refetchable(queryName: "PostCardRefetchQuery") {
    id
    databaseId
    title
    status
    author {
      username
    }
  }
`;
