"""``/.well-known/consent-anchors``: every consent anchor, newest first, for anyone
(``models.consent.anchors``; ``docs/consent-anchors.md`` says how to check one).

``?limit=`` (1-100, default 20) anchors a page; ``next`` is the address of the page after
(``?before=<id>``), null on the last. A bad parameter answers 400 with a typed error."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from models.consent import anchors

PATH = "/.well-known/consent-anchors"


def _error(field: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": "INVALID", "field": field, "message": message}]}, status_code=400
    )


def _number(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(name)
    return int(raw)


def _anchor(row: anchors.ConsentAnchor) -> dict[str, Any]:
    return {
        "id": row.id,
        "period": row.period,
        "treeSize": row.tree_size,
        "rootHash": row.root_hash,
        "previousRootHash": row.previous_root_hash,
        "createdAt": row.created_at.isoformat(),
        "token": row.token,
    }


async def consent_anchors(request: Request) -> JSONResponse:
    try:
        limit = _number(request, "limit", 1, anchors.PUBLISHED_PAGE_MAX)
        before = _number(request, "before", 1, 2**63 - 1)
    except ValueError as error:
        return _error(str(error), "must be a whole number in range (limit: 1-100)")
    size = limit or anchors.PUBLISHED_PAGE
    rows, more = await anchors.published(before, size)
    return JSONResponse(
        {
            "anchors": [_anchor(row) for row in rows],
            "next": f"{PATH}?before={rows[-1].id}&limit={size}" if more else None,
            "keys": "/.well-known/jwks.json",
            "leafFormat": anchors.LEAF_FORMAT,
        },
        headers={"cache-control": "public, max-age=60"},
    )
