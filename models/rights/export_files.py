"""Where export archives live: ``<data_dir>/exports``, outside anything a web server
serves, readable by Accord's own user only (folder 0700, files 0600).

An archive is written under a name of its own run (``<export id>-<run>.zip``) with ``.part``
appended, and renamed once complete, so a half-written file is never taken for an archive,
and a runner that lost its lease (a crashed worker coming back) never writes over another
runner's file. Everything of one export starts with ``<export id>-``: removing an export
removes every such file, whatever run wrote it (an open file stays readable to whoever
already holds it, a download in flight, and is gone when closed).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import IO

from accord.settings import Settings

PARTIAL = ".part"


class ExportFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, settings: Settings) -> ExportFiles:
        return cls(settings.data_dir / "exports")

    @staticmethod
    def key_for(export_id: int, run: str) -> str:
        return f"{export_id}-{run}.zip"

    def path(self, key: str) -> Path:
        if "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"bad export file key {key!r}")
        return self.root / key

    def partial(self, key: str) -> Path:
        return self.path(key + PARTIAL)

    def create(self, key: str) -> IO[bytes]:
        """A new partial file, 0600 from its first byte (never world-readable for a moment)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.partial(key), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return os.fdopen(descriptor, "w+b")

    async def publish(self, key: str) -> int:
        """The partial file becomes the archive (an atomic rename); its size."""

        def rename() -> int:
            os.replace(self.partial(key), self.path(key))
            return self.path(key).stat().st_size

        return await asyncio.to_thread(rename)

    async def remove(self, export_id: int) -> None:
        """Every file of the export, complete or partial; idempotent."""

        def unlink() -> None:
            for path in self.root.glob(f"{export_id}-*"):
                path.unlink(missing_ok=True)

        await asyncio.to_thread(unlink)
