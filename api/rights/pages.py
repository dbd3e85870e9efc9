"""The page a data export's link opens: ``/exports/{token}``, outside GraphQL.

``GET`` only shows the export (its size, until when the link works) with one button: mail
scanners and link previews fetch GET links on their own, and a single-use link they opened
would be spent before the user saw it. The button POSTs to the same address, which spends
the link (``models.rights.exports.open_download``) and streams the ZIP as an attachment. A
link used or expired answers 410 Gone with a plain page, an unknown one 404.

The token is the only credential: no referrer is sent, the page may not be framed, and
nothing is cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import IO

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from models.rights import exports
from models.rights.exports import LinkState

TEMPLATES = Path(__file__).resolve().parent / "templates"
TITLES = {
    LinkState.READY: "Your data export",
    LinkState.SPENT: "Link used or expired",
    LinkState.UNKNOWN: "Link not valid",
}
STATUS = {LinkState.READY: 200, LinkState.SPENT: 410, LinkState.UNKNOWN: 404}
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}
CHUNK = 256 * 1024


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )


def _page(state: LinkState, export: exports.DataExport | None = None) -> HTMLResponse:
    size = expires = ""
    if export is not None and state == LinkState.READY:
        size = f"{(export.size or 0) / 2**20:.1f}"
        expires = f"{export.expires_at:%Y-%m-%d %H:%M} UTC"
    html = (
        _environment()
        .get_template("export.html")
        .render(state=state, title=TITLES[state], size_mib=size, expires=expires)
    )
    return HTMLResponse(html, status_code=STATUS[state], headers=HEADERS)


async def export_download(request: Request) -> Response:
    """GET (and HEAD): what the link holds, reading only; POST: the archive, once."""
    token = request.path_params["token"]
    settings = request.app.state.settings
    if request.method != "POST":
        state, export = await exports.link_state(token, settings)
        return _page(state, export)
    state, download = await exports.open_download(token, settings)
    if download is None:
        return _page(state)
    made = download.export.ready_at
    name = f"accord-export-{made:%Y-%m-%d}.zip" if made else "accord-export.zip"
    return StreamingResponse(
        _chunks(download.file),
        media_type="application/zip",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(download.export.size),
        },
    )


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The open archive a chunk at a time (the file may already be unlinked: the handle
    still reads it), closed however the response ends."""
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
