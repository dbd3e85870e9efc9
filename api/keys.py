"""``/.well-known/jwks.json``: the public key that verifies consent receipts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from models.consent.receipts import public_jwks


async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(
        public_jwks(request.app.state.settings),
        headers={"cache-control": "public, max-age=300"},
    )
