"""GET /pictures/{id}: the file of a feedback picture, outside GraphQL (an ``<img src>``).

With ``?expires=&signature=`` (the link ``Picture.url`` gives, ``models.personal.picture_links``)
anyone holding the link reads it until it expires, no header needed; a link expired or not
signed for this picture is refused (403). Without them, the owner (bearer token) reads it,
others only if its feedback is public (``models.personal.feedback.picture_readable_by``).

The file is decrypted as it is sent (``models.keys.sealed_files``), a chunk at a time. The
first chunk is read before answering, so an altered file (or one whose owner's key was
destroyed) answers 410 with a plain line, never garbage; an alteration further in cuts the
response short (tink releases no segment whose tag fails).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from models.accounts.sessions import session_for_token
from models.keys.data_keys import KeyDestroyed
from models.keys.sealed_files import CHUNK, FileUnreadable, OpenedFile
from models.personal import feedback, picture_links, pictures

log = structlog.get_logger("accord.pictures")


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
    app = request.app
    try:
        file = await pictures.open_picture(row, app.state.settings, app.state.storage)
        if file is None:
            return Response(status_code=404)
        try:
            first = await asyncio.to_thread(file.read, CHUNK)
        except BaseException:
            await asyncio.to_thread(file.close)
            raise
    except (FileUnreadable, KeyDestroyed) as error:
        log.error("picture unreadable", picture_id=str(row.id), error=str(error))
        return PlainTextResponse("this picture can no longer be read", status_code=410)
    return StreamingResponse(
        _rest(first, file),
        media_type=row.content_type,
        headers={
            "cache-control": cache_control,
            "content-length": str(row.size),
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'",
        },
    )


async def _rest(first: bytes, file: OpenedFile) -> AsyncIterator[bytes]:
    """The first chunk, then the others as they are decrypted; closed however it ends."""
    try:
        yield first
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
