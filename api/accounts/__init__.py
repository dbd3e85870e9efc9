"""Accounts, sessions and third-party logins at the GraphQL edge."""
