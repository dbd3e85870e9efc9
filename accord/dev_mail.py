"""A local SMTP server (aiosmtpd) for `accord dev` and the tests: e-mail notifications go
through the real aiosmtplib code path and land as .eml files under ``<data_dir>/mail/``,
each with an ``X-Envelope-To`` header naming its recipients (verification codes are read
from there by the client guide's live run)."""

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
        # Who it went to is in the envelope only (notices are sent to undisclosed
        # recipients): the saved file and the message carry it as a header.
        to = ", ".join(envelope.rcpt_tos)
        data = f"X-Envelope-To: {to}\r\n".encode() + (envelope.original_content or envelope.content)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{next(self.counter)}.eml"
        (self.folder / name).write_bytes(data)
        message = message_from_bytes(data)
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
