"""``accord dev``: the one command a newcomer runs.

It migrates the SQLite file under ``./var/``, starts an embedded Redis, a local mailbox, the
API and a worker, and stops all of them on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator

import typer

from accord.cli import demo
from accord.cli.serve import Host, Port, redis_for, run_server, serve_api
from accord.cli.wiring import check_master_key, migrate_database, read_settings
from accord.settings import Settings


def dev(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Migrate, then run Redis (embedded unless REDIS_URL), the API and a worker together,
    with a sample policy, a staff account and a sign-in provider to try (accord/cli/demo.py)."""
    settings = read_settings()
    asyncio.run(migrate_database(settings))
    check_master_key(settings)  # made in <data_dir>/master-key.json on first run
    settings, seeded = demo.prepare(settings, host, port)  # the demo: dev only
    with redis_for(settings) as redis_url, _dev_mailbox(settings) as mailbox:
        typer.echo(f"Accord is running: http://{host}:{port}/graphql  (Ctrl-C stops it)")
        if not settings.redis_url:
            # The embedded server's socket changes at each start: other commands need it
            # told. (A configured URL, which may hold a password, is not echoed.)
            typer.echo(
                f"Redis: {redis_url}  (export ACCORD_REDIS_URL={redis_url} for "
                "`accord status`, `accord worker --check` and arq's CLI)"
            )
        if mailbox:
            typer.echo(f"E-mail goes to {mailbox}")
        if seeded:
            typer.echo(demo.try_this(seeded))
        worker_cmd = [sys.executable, "-m", "accord", "worker"]
        dev_routes = seeded.provider.routes() if seeded else ()
        run_server(serve_api(settings, redis_url, host, port, worker_cmd, dev_routes))
    typer.echo("Accord stopped.")


@contextlib.contextmanager
def _dev_mailbox(settings: Settings) -> Iterator[str | None]:
    """A local SMTP server for e-mail notifications, unless something already listens."""
    from accord.dev_mail import DevMailbox  # aiosmtpd: only `accord dev` needs it

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
