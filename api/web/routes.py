"""The web pages' routes, mounted by ``api.app``: the privacy center, the staff console,
and their stylesheet and script. A page turned off (``ACCORD_PRIVACY_CENTER_ENABLED``,
``ACCORD_CONSOLE_ENABLED``) answers 404."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from api.web.console import console_routes
from api.web.privacy import privacy_routes
from api.web.security import STATIC_PATH

STATIC = Path(__file__).resolve().parent / "static"


def web_routes() -> list[BaseRoute]:
    return [
        *privacy_routes(),
        *console_routes(),
        Mount(STATIC_PATH, StaticFiles(directory=STATIC), name="web-static"),
    ]
