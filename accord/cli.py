"""``accord``: run, migrate and administer the service.

``accord dev`` is the one command a newcomer runs: it migrates the SQLite file under
``./var/``, starts an embedded Redis, the API and a worker, and stops all of them on Ctrl-C
or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from accord.database import apply_migrations, detect_model_changes, make_migrations
from accord.embedded_redis import EmbeddedRedis, _die_with_parent
from accord.logs import configure_logging
from accord.settings import Settings, SettingsError, load_settings, settings_table

cli = typer.Typer(
    help="Accord: a GraphQL consent-and-account backend.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings)
    return settings


@contextlib.contextmanager
def _redis(settings: Settings) -> Iterator[str]:
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


def _run_server(main: Coroutine[Any, Any, None]) -> None:
    """Run the API on uvloop where uvicorn[standard] installed it, as ``uvicorn`` itself
    would (asyncio's own loop costs the API about a fifth more CPU per request)."""
    try:
        import uvloop
    except ImportError:  # Windows, PyPy
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


async def _serve(settings: Settings, redis_url: str, host: str, port: int, worker_cmd=None):
    from api.app import create_app

    server = _Server(
        uvicorn.Config(
            create_app(settings, redis_url),
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


@cli.command()
def dev(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Migrate, then run Redis (embedded unless REDIS_URL), the API and a worker together."""
    settings = _settings()
    asyncio.run(apply_migrations(settings))
    with _redis(settings) as redis_url, _dev_mailbox(settings) as mailbox:
        typer.echo(f"Accord is running: http://{host}:{port}/graphql  (Ctrl-C stops it)")
        if mailbox:
            typer.echo(f"E-mail goes to {mailbox}")
        worker_cmd = [sys.executable, "-m", "accord", "worker"]
        _run_server(_serve(settings, redis_url, host, port, worker_cmd))
    typer.echo("Accord stopped.")


@contextlib.contextmanager
def _dev_mailbox(settings: Settings) -> Iterator[str | None]:
    """A local SMTP server for e-mail notifications, unless something already listens."""
    import socket

    from accord.dev_mail import DevMailbox

    if settings.smtp_host not in ("127.0.0.1", "localhost"):
        yield None
        return
    with socket.socket() as probe:
        taken = probe.connect_ex((settings.smtp_host, settings.smtp_port)) == 0
    if taken:
        yield None
        return
    folder = settings.data_dir / "mail"
    mailbox = DevMailbox(folder, settings.smtp_host, settings.smtp_port).start()
    try:
        yield f"{folder}/ (SMTP on {settings.smtp_host}:{settings.smtp_port})"
    finally:
        mailbox.stop()


@cli.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the API only (a worker runs separately: `accord worker`)."""
    settings = _settings()
    with _redis(settings) as redis_url:
        _run_server(_serve(settings, redis_url, host, port))


@cli.command()
def worker(
    check: Annotated[bool, typer.Option(help="Exit 0 if a worker is alive, 1 if not.")] = False,
) -> None:
    """Run an arq worker: the jobs and the periodic sweeper."""
    from arq.worker import async_check_health, create_worker

    from workers.settings import worker_settings

    settings = _settings()
    if not settings.redis_url:
        typer.echo(
            "invalid setting ACCORD_REDIS_URL / REDIS_URL: a worker needs the "
            "API's Redis (accord dev sets it for its own worker)",
            err=True,
        )
        raise typer.Exit(2)
    kwargs = worker_settings(settings, settings.redis_url)
    if check:
        code = asyncio.run(async_check_health(kwargs["redis_settings"], None, kwargs["queue_name"]))
        raise typer.Exit(code)
    create_worker(kwargs).run()


@cli.command()
def migrate() -> None:
    """Apply every migration in migrations/ to DATABASE_URL."""
    settings = _settings()
    asyncio.run(apply_migrations(settings))
    typer.echo("Database is up to date.")


@cli.command()
def makemigrations(
    name: Annotated[str | None, typer.Option(help="Suffix of the migration file.")] = None,
    check: Annotated[bool, typer.Option(help="Exit 1 if a migration is missing.")] = False,
) -> None:
    """Write a migration for model changes (developers only)."""
    settings = _settings()
    if check:
        missing = asyncio.run(detect_model_changes(settings))
        if missing:
            typer.echo("Models have changes with no migration: run `accord makemigrations`.")
            raise typer.Exit(1)
        typer.echo("No model changes.")
        return
    for path in asyncio.run(make_migrations(settings, name)):
        typer.echo(f"Wrote {path}")


@cli.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) that the code defines."""
    from api.schema import schema_sdl

    output.write_text(schema_sdl(load_settings(env="dev")))
    typer.echo(f"Wrote {output}")


@cli.command("create-staff")
def create_staff(
    account_name: Annotated[str, typer.Option(help="Account name of the staff member.")],
    role: Annotated[str, typer.Option(help="SUPPORT, PRIVACY_OFFICER, OPERATOR or ADMIN.")],
    nickname: Annotated[
        str | None, typer.Option(help="Shown name; the account name if unset.")
    ] = None,
) -> None:
    """Create a staff account (or give an existing account a staff role). Reads the password
    from the ACCORD_STAFF_PASSWORD variable or asks for it."""
    from models.accounts.staff import create_staff as create

    settings = _settings()
    password = os.environ.get("ACCORD_STAFF_PASSWORD") or getpass.getpass("Password: ")
    try:
        account, created = asyncio.run(create(settings, account_name, role, password, nickname))
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{'Created' if created else 'Updated'} {account} with role {role}.")


deletions_cli = typer.Typer(help="Account deletions.", no_args_is_help=True)
cli.add_typer(deletions_cli, name="deletions")


@deletions_cli.command("run-due")
def deletions_run_due(
    inline: Annotated[
        bool, typer.Option(help="Delete here and now instead of enqueuing for the workers.")
    ] = False,
) -> None:
    """Run a deletion sweep by hand: enqueue every due deletion (what the sweeper does each
    minute), or with --inline carry them out in this process."""
    from functools import partial

    from tortoise.context import TortoiseContext

    from accord.database import tortoise_config
    from models import jobs
    from models.personal.storage import LocalStorage
    from models.queue import Queue
    from models.rights import deletion

    settings = _settings()

    async def run() -> str:
        async with TortoiseContext() as orm:
            await orm.init(config=tortoise_config(settings))
            if inline:
                storage = LocalStorage(settings.data_dir / "files")
                outcomes: list[deletion.DeletionOutcome] = []

                async def delete_now(account_id: int, attempt: int) -> bool:
                    outcomes.append(await deletion.run_deletion(account_id, settings, storage))
                    return True

                await deletion.enqueue_due(delete_now, settings.sweep_batch_size)
                done = outcomes.count(deletion.DeletionOutcome.DONE)
                return f"Deleted {done} account(s); outcomes: {[str(o) for o in outcomes]}"
            if not settings.redis_url:
                raise typer.BadParameter("set REDIS_URL to reach the workers, or use --inline")
            queue = await Queue.connect(
                settings.redis_url, settings.queue_name, settings.job_timeout_seconds
            )
            try:
                count = await deletion.enqueue_due(
                    partial(jobs.delete_account, queue), settings.sweep_batch_size
                )
            finally:
                await queue.close()
            return f"Enqueued {count} deletion(s)."

    typer.echo(asyncio.run(run()))


@cli.command("settings")
def show_settings(
    readme: Annotated[Path | None, typer.Option(help="Rewrite the table in this file.")] = None,
) -> None:
    """Print the table of settings, or rewrite the README's copy of it."""
    if readme is None:
        typer.echo(settings_table())
        return
    begin, end = "<!-- settings:begin -->", "<!-- settings:end -->"
    text = readme.read_text()
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    readme.write_text(f"{head}{begin}\n{settings_table()}\n{end}{tail}")
    typer.echo(f"Wrote the settings table to {readme}")


def main() -> None:
    cli()
