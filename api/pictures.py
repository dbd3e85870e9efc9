"""GET /pictures/{id}: the file of a feedback picture, outside GraphQL (an ``<img src>``).

With ``?expires=&signature=`` (the link ``Picture.url`` gives, ``models.personal.picture_links``)
anyone holding the link reads it until it expires, no header needed; a link expired or not
signed for this picture is refused (403). Without them, the owner (bearer token) reads it,
others only if its feedback is public (``models.personal.feedback.picture_readable_by``).
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from models.accounts.sessions import session_for_token
from models.personal import feedback, picture_links, pictures


async def serve_picture(request: Request) -> Response:
    """GET /pictures/{id}: the owner (bearer token) always, others only if it is public."""
    try:
        picture_id = uuid.UUID(request.path_params["picture_id"])
    except ValueError:
        return Response(status_code=404)
    settings = request.app.state.settings
    query = request.query_params
    if "signature" in query or "expires" in query:
        if not picture_links.link_is_valid(
            str(picture_id), query.get("expires", ""), query.get("signature", ""), settings.secret()
        ):
            return Response(status_code=403)
        row = await pictures.Picture.get_or_none(id=picture_id)
        if row is None:
            return Response(status_code=404)
        return await _file(request, row, "private, max-age=300")
    row = await pictures.Picture.get_or_none(id=picture_id)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    session = (
        await session_for_token(token.strip(), settings)
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    viewer = session.account if session else None
    if row is None or not await feedback.picture_readable_by(row, viewer):
        return Response(status_code=404)
    public = viewer is None or viewer.id != row.owner_id
    return await _file(request, row, "public, max-age=300" if public else "private, no-store")


async def _file(request: Request, row: pictures.Picture, cache_control: str) -> Response:
    data = await request.app.state.storage.get(row.storage_key)
    if data is None:
        return Response(status_code=404)
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "cache-control": cache_control,
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'",
        },
    )
