"""The rights domain at the GraphQL edge: the map of personal data (issue 16)."""
