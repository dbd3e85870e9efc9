"""Files inside an export's ZIP, written a chunk at a time (stdlib ``zipfile``).

Every write (compression and disk) runs in a worker thread so the event loop stays free
for the worker's other jobs; the chunks are one batch of rows, so memory never holds more
than a batch whatever the archive's size. JSON is written as an array with one row per line,
by orjson: times as RFC 3339 in UTC, bytes as unpadded base64url.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Sequence
from typing import IO, Any, TypeVar

import orjson

T = TypeVar("T")
COMPRESS_LEVEL = 1


def _default(value: object) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.urlsafe_b64encode(bytes(value)).rstrip(b"=").decode()
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID class, which orjson does not know
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: object) -> bytes:
    """How the archive writes one JSON value (a row, a document)."""
    return orjson.dumps(value, default=_default)


def rows_chunk(rows: Sequence[object], first: bool) -> bytes:
    """One batch of an array's rows, each on its own line."""
    chunk = b",".join(b"\n" + dumps(row) for row in rows)
    return chunk if first else b"," + chunk


async def write_array(
    archive: zipfile.ZipFile,
    name: str,
    batches: AsyncIterator[list[T]],
    encode: Callable[[list[T], bool], bytes] = rows_chunk,
) -> int:
    """A JSON array of every row the batches yield; ``encode`` turns a batch into its bytes
    (in the worker thread, so it may be CPU work, e.g. signing); how many rows."""
    handle = archive.open(_entry(name), "w", force_zip64=True)
    count = 0
    try:
        await asyncio.to_thread(handle.write, b"[")
        async for batch in batches:
            await asyncio.to_thread(_write_encoded, handle, encode, batch, count == 0)
            count += len(batch)
        await asyncio.to_thread(handle.write, b"\n]\n")
    finally:
        await asyncio.to_thread(handle.close)
    return count


def _entry(name: str) -> zipfile.ZipInfo:
    """What ``ZipFile.open(name, "w")`` makes, dated now rather than 1980, and compressed
    fast: JSON shrinks about as well at level 1, for a fraction of level 6's time."""
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile.open sets the same from the archive; the attribute is public (compress_level)
    # only from Python 3.13.
    entry._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]
    return entry


def _write_encoded(
    handle: IO[bytes], encode: Callable[[list[T], bool], bytes], batch: list[T], first: bool
) -> None:
    handle.write(encode(batch, first))


async def write_bytes(archive: zipfile.ZipFile, name: str, data: bytes, *, stored: bool) -> None:
    """A whole small file (a document, a README) or an already compressed one (an image,
    ``stored``: compressing it again would only cost time)."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    await asyncio.to_thread(archive.writestr, name, data, compress_type=method)
