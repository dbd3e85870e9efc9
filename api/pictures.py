"""GET /pictures/{id}: the file of a feedback picture, outside GraphQL (an ``<img src>``).

The owner (bearer token) always reads it, others only if its feedback is public
(``models.personal.feedback.picture_readable_by``).
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from models.accounts.sessions import session_for_token
from models.personal import feedback, pictures


async def serve_picture(request: Request) -> Response:
    """GET /pictures/{id}: the owner (bearer token) always, others only if it is public."""
    try:
        picture_id = uuid.UUID(request.path_params["picture_id"])
    except ValueError:
        return Response(status_code=404)
    row = await pictures.Picture.get_or_none(id=picture_id)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    session = (
        await session_for_token(token.strip(), request.app.state.settings)
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    viewer = session.account if session else None
    if row is None or not await feedback.picture_readable_by(row, viewer):
        return Response(status_code=404)
    data = await request.app.state.storage.get(row.storage_key)
    if data is None:
        return Response(status_code=404)
    public = viewer is None or viewer.id != row.owner_id
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "cache-control": "public, max-age=300" if public else "private, no-store",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'",
        },
    )
