"""Policies, purposes and the append-only, hash-chained consent ledger with its receipts."""
