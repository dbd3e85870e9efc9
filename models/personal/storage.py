"""Where uploaded files live. A small interface so a cloud bucket can replace the folder."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

_KEY = re.compile(r"[a-z0-9][a-z0-9/_.-]{0,200}")


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes | None: ...
    async def delete(self, key: str) -> None: ...
    def open_write(self, key: str) -> contextlib.AbstractContextManager[IO[bytes]]: ...
    def open_read(self, key: str) -> IO[bytes] | None: ...


class LocalStorage:
    """Files under a folder (default ``<data_dir>/files``); keys are relative paths."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key) or ".." in key:
            raise ValueError(f"bad storage key {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(path.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(path)

        await asyncio.to_thread(write)

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        """A file to stream into (blocking: run it in a thread); it becomes ``key`` only
        once the block ends without an error."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        try:
            with partial.open("wb") as out:
                yield out
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    def open_read(self, key: str) -> IO[bytes] | None:
        """The stored bytes as a file (blocking), or None when there is no such file."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            return None

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        """Idempotent: deleting a missing file is not an error."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
