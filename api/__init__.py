"""The GraphQL edge: Starlette app, Strawberry schema, one module per domain."""
