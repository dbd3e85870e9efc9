"""Liveness and readiness for orchestrators.

``/healthz`` says the process serves requests. ``/readyz`` says its dependencies answer:
it names the part that does not, and recovers by itself when that part comes back.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

CHECK_TIMEOUT = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def readyz(request: Request) -> JSONResponse:
    checks = {"database": _database(), "redis": request.app.state.queue.ping()}
    results = await asyncio.gather(
        *(asyncio.wait_for(c, CHECK_TIMEOUT) for c in checks.values()), return_exceptions=True
    )
    failing = [
        name
        for name, result in zip(checks, results, strict=True)
        if isinstance(result, BaseException) or result is False
    ]
    if failing:
        return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
    return JSONResponse({"status": "ready"})
