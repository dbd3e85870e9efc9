"""``accord serve``: the API under uvicorn, with Redis embedded unless one is configured."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import subprocess
from collections.abc import Coroutine, Iterator, Sequence
from typing import Annotated, Any

import typer
import uvicorn
from starlette.routing import BaseRoute

from accord.cli.wiring import check_master_key, read_settings
from accord.embedded_redis import EmbeddedRedis, _die_with_parent
from accord.settings import Settings

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


@contextlib.contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """The configured Redis, or an embedded one that lives as long as this block."""
    if settings.redis_url:
        yield settings.redis_url
        return
    with EmbeddedRedis() as server:
        yield server.url


class _Server(uvicorn.Server):
    """Uvicorn that leaves signal handling to us, so the worker and Redis stop too."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_server(main: Coroutine[Any, Any, None]) -> None:
    """Run the API on uvloop where uvicorn[standard] installed it, as ``uvicorn`` itself
    would (asyncio's own loop costs the API about a fifth more CPU per request)."""
    try:
        import uvloop
    except ImportError:  # Windows, PyPy
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


async def serve_api(
    settings: Settings,
    redis_url: str,
    host: str,
    port: int,
    worker_cmd: Sequence[str] | None = None,
    dev_routes: Sequence[BaseRoute] = (),
) -> None:
    """Serve the API until SIGINT or SIGTERM; with ``worker_cmd``, also run a worker process
    for as long, and stop it before returning (so before Redis stops)."""
    from api.app import create_app

    server = _Server(
        uvicorn.Config(
            create_app(settings, redis_url, dev_routes=dev_routes),
            host=host,
            port=port,
            log_config=None,
            lifespan="on",
            ws="websockets-sansio",
        )
    )
    loop = asyncio.get_running_loop()

    def stop() -> None:
        server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    worker = None
    try:
        if worker_cmd:
            # Spawning does not block: Popen returns as soon as the child exists.
            worker = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter and module
                worker_cmd,
                env={**os.environ, "ACCORD_REDIS_URL": redis_url},
                preexec_fn=_die_with_parent,
                start_new_session=True,  # we stop it ourselves, before Redis
            )
        # What exists by now (modules, the schema, the ORM's models) lives as long as the
        # process: frozen out of the garbage collector's way, a full collection no longer
        # walks it (measured: 5% less CPU per login on the event loop).
        gc.collect()
        gc.freeze()
        await server.serve()
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the API only (a worker runs separately: `accord worker`)."""
    settings = read_settings()
    check_master_key(settings)
    with redis_for(settings) as redis_url:
        run_server(serve_api(settings, redis_url, host, port))
