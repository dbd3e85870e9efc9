"""Notices to users: one-off notices, campaigns that fan out, and their delivery."""
