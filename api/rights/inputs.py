"""Input types of the rights domain."""

from __future__ import annotations

import strawberry


@strawberry.input(
    description="Recent authentication: nothing if you signed in minutes ago; otherwise your "
    "password, or a bound provider with a fresh ID token."
)
class ExportMyDataInput:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None
