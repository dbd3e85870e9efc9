"""A local SMTP server (aiosmtpd) for `accord dev` and the tests: e-mail notifications go
through the real aiosmtplib code path and land as .eml files under ``<data_dir>/mail/``."""

from __future__ import annotations

import itertools
import logging
import socket
import time
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count()
        self.received: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        data = envelope.original_content or envelope.content
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{next(self.counter)}.eml"
        (self.folder / name).write_bytes(data)
        message = message_from_bytes(data)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(message)
        return "250 Message accepted for delivery"


class DevMailbox:
    """Start with ``start()``; ``received`` holds every message since."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        """``port=0`` picks a free one."""
        if port == 0:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.handler = _SaveToFolder(folder)
        self.controller = Controller(self.handler, hostname=host, port=port)

    @property
    def received(self) -> list[Message]:
        return self.handler.received

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> DevMailbox:
        # aiosmtpd logs every connection at INFO (its own start-up probe included): in a
        # terminal running `accord dev` that buries the lines that matter.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
