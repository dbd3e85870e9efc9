"""The Starlette application: /graphql, /healthz, /readyz, /metrics, the pages a link in
an e-mail opens (/sign-in/not-me, /exports/{token}), and the privacy center and staff
console (/privacy, /console: ``api.web``).

Built by ``create_app(settings)`` so the CLI, the tests and the benchmarks each build their
own with their own settings; nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import orjson
from cross_web import HTTPException  # what Strawberry views raise for HTTP errors
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from tortoise.contrib.starlette import RegisterTortoise

from accord.database import ensure_data_dir, tortoise_config
from accord.settings import Settings
from api.accounts.pages import not_me
from api.anchors import PATH as ANCHORS_PATH
from api.anchors import consent_anchors
from api.context import Context
from api.health import healthz, readyz
from api.keys import jwks
from api.limits import BodySizeLimit
from api.metrics import Metrics, RequestMetrics
from api.pictures import serve_picture
from api.request_context import RequestContext
from api.rights.pages import export_download
from api.schema import build_schema
from api.web.routes import web_routes
from models.accounts.login_limits import LoginLimits
from models.accounts.passwords import Passwords
from models.accounts.provider_keys import ProviderKeys
from models.accounts.sign_ins import NOT_ME_PATH
from models.accounts.user_agents import warm_up as warm_up_user_agents
from models.keys import key_ring
from models.personal.storage import LocalStorage
from models.queue import Broadcast, JobStats, Queue
from models.rights.exports import EXPORT_PATH


class AccordGraphQL(GraphQL[Context, None]):
    """Strawberry's view with orjson, which reads a 500-event sync body and writes a page of
    results several times faster than the standard library.

    A request the view cannot read (not JSON, not UTF-8, not an object or a batch of
    objects) is answered 400 with a GraphQL-over-HTTP error body, never a 500 or plain text.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = request_error(error.status_code, error.reason)
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> object:
        """A request body (or a multipart ``operations``) is an object or a batch of them;
        Strawberry reads any other JSON value as one and fails on it."""
        parsed = super().parse_json(data)
        if isinstance(parsed, dict):
            return parsed  # Strawberry checks a single operation's members itself
        if isinstance(parsed, list) and all(_is_operation(item) for item in parsed):
            return parsed
        raise HTTPException(
            400,
            "The request body must be an operation or an array of them: objects whose query "
            "and operationName are strings and whose variables and extensions are objects",
        )

    def decode_json(self, data: str | bytes) -> object:
        """A body nested deeper than the parser's recursion limit is the caller's mistake."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            if "depth limit" in str(error):  # orjson stops at 1,024 levels
                raise HTTPException(400, "Request body is nested too deeply") from None
        # orjson also refuses lone surrogates ("\ud800"), which JSON allows: the standard
        # parser reads them so that the field gets its typed error, and fails on real
        # syntax errors (a json.JSONDecodeError, which Strawberry answers with a 400).
        try:
            return super().decode_json(data)
        except RecursionError:
            raise HTTPException(400, "Request body is nested too deeply") from None
        except UnicodeDecodeError:  # bytes that are not UTF-8, in a string or anywhere
            raise HTTPException(400, "Request body is not valid UTF-8") from None

    def encode_json(self, data: object) -> str:
        # Text, not bytes: the websocket protocol sends what this returns as a text frame.
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            # orjson refuses lone surrogates, which an answer may echo from the request (a
            # rejected sync event's key, a coercion error quoting a value): the standard
            # encoder writes them as JSON escapes, as the client sent them.
            return json.dumps(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context.of(request)


def _is_operation(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("query"), (str, type(None)))
        and isinstance(item.get("operationName"), (str, type(None)))
        and isinstance(item.get("variables"), (dict, type(None)))
        and isinstance(item.get("extensions"), (dict, type(None)))
    )


def request_error(status: int, message: str) -> JSONResponse:
    """A request refused before execution, as GraphQL over HTTP answers one: an ``errors``
    list with a code named after the status (``BAD_REQUEST``), like the 413 of
    ``api.limits``."""
    code = HTTPStatus(status).name
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


#: A browser page on a development server (Vite, Next, Expo web...) on this machine.
LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"


def cross_origin(settings: Settings) -> Middleware:
    """CORS for browser clients on other origins, outermost so that a refusal (413, 400)
    still carries the headers a page needs to read it.

    Accord's credential is a bearer token in the ``Authorization`` header, never a cookie,
    so ``allow_credentials`` stays off: a foreign page can call the API only with a token it
    already holds, and there is no ambient authority for CSRF to borrow. Preflights are
    cached for ten minutes.
    """
    origins = settings.cors_origins
    return Middleware(
        CORSMiddleware,
        allow_origins=origins or [],
        allow_origin_regex=LOCAL_ORIGINS if origins is None and not settings.is_prod else None,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Apollo-Require-Preflight"],
        allow_credentials=False,
        max_age=600,
    )


def create_app(
    settings: Settings,
    redis_url: str,
    *,
    own_orm: bool = True,
    dev_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """``redis_url`` is the resolved one (the embedded server's when none was configured).

    ``own_orm=False`` leaves the ORM to whoever already started it (a test that runs a
    second app beside the first, over the same database). ``dev_routes`` (the dev sign-in
    provider of ``accord dev``) are mounted in dev only, never with ``ACCORD_ENV=prod``.
    """
    ensure_data_dir(settings)
    graphql = AccordGraphQL(
        build_schema(settings),
        graphql_ide=None if settings.is_prod else "graphiql",
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        multipart_uploads_enabled=True,
    )

    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.settings = settings
        key_ring.install(settings)  # the keys this process's sealed fields use
        app.state.passwords = Passwords(settings)
        await asyncio.to_thread(warm_up_user_agents)  # not on the first sign-in's time
        app.state.queue = await Queue.connect(
            redis_url, settings.queue_name, settings.job_timeout_seconds
        )
        app.state.login_limits = LoginLimits(settings, redis_url)
        app.state.provider_keys = ProviderKeys(
            settings.oidc_providers,
            max_age=settings.oidc_keys_max_age,
            refresh_interval=settings.oidc_keys_refresh_interval,
        )
        app.state.broadcast = Broadcast(app.state.queue.pool, settings.redis_key_prefix)
        app.state.storage = LocalStorage(settings.data_dir / "files")
        app.state.stats = JobStats(
            app.state.queue.pool, settings.redis_key_prefix, settings.queue_name
        )
        orm = (
            RegisterTortoise(app, config=tortoise_config(settings))
            if own_orm
            else contextlib.nullcontext()
        )
        try:
            async with orm:
                yield
        finally:
            await app.state.queue.close()
            await app.state.login_limits.close()
            await app.state.provider_keys.aclose()
            app.state.passwords.close()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/.well-known/jwks.json", jwks),
            Route(ANCHORS_PATH, consent_anchors),
            Route("/pictures/{picture_id}", serve_picture),
            Route(NOT_ME_PATH, not_me, methods=["GET", "POST"]),
            Route(EXPORT_PATH + "{token}", export_download, methods=["GET", "POST"]),
            Route("/metrics", metrics.endpoint),
            *web_routes(),
            *(() if settings.is_prod else dev_routes),
        ],
        middleware=[
            cross_origin(settings),
            Middleware(RequestMetrics, metrics=metrics),
            Middleware(RequestContext),
            Middleware(
                BodySizeLimit,
                limit=settings.max_body_bytes,
                multipart_limit=settings.picture_max_bytes + 65_536,
            ),
        ],
        lifespan=lifespan,
    )
