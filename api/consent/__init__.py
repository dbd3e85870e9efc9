"""Purposes, policy versions and the consent ledger at the GraphQL edge."""
