"""Accounts, how they sign in (passwords, sessions, providers, limits), staff roles."""
