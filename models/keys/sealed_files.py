"""Files sealed with their owner's streaming AEAD key (``models.keys.data_keys``): pictures
and export archives. Written and read as streams, a segment at a time (constant memory);
the file's storage key is the associated data, so a file copied to another name does not
open.

Files written before encryption existed are plaintext: their row says so
(``FileEncryption.NONE``, what the migration gave every existing row) and they are read as
they are; every new file is ``TINK_STREAMING_V1``. A plaintext file goes when its row goes
(a picture's deletion, an export's expiry), so no conversion is needed.

Reading fails with ``FileUnreadable`` (altered bytes, or a key that is not the file's) or
``KeyDestroyed`` (its owner was deleted), never with unverified bytes: tink releases a
segment only after its tag checked.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from enum import StrEnum
from typing import IO, cast

import tink
from tink import streaming_aead

from accord.settings import Settings
from models.keys.data_keys import streaming_aead_of
from models.personal.storage import Storage

#: What is written to (or read from) a tink stream at a time.
CHUNK = 256 * 1024


class FileEncryption(StrEnum):
    """How a stored file is encrypted (a column beside the file's storage key)."""

    #: Written before files were encrypted: read as is.
    NONE = "none"
    #: tink Streaming AEAD (AES256_GCM_HKDF_1MB) under the owner's data key.
    TINK_STREAMING_V1 = "tink-streaming-v1"


class FileUnreadable(Exception):
    """A stored file that fails its integrity check: altered, truncated, or not sealed with
    this owner's key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the stored file {key} failed its integrity check")
        self.key = key


class _Unclosing(io.RawIOBase):
    """Lets tink close its stream without closing the file beneath (its owner does)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.out.write(data)


class PlainCount(io.RawIOBase):
    """The writable end of a sealed file that counts the plaintext written (the size a
    download announces); not seekable, which zipfile handles."""

    def __init__(self, sealed: IO[bytes]) -> None:
        self.sealed, self.count = sealed, 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            self.sealed.write(view[start : start + CHUNK])
        self.count += len(view)
        return len(view)

    def tell(self) -> int:
        return self.count


def seal_writer(primitive: streaming_aead.StreamingAead, out: IO[bytes], key: str) -> PlainCount:
    """A stream that writes ``key``'s file sealed into ``out``; close it to finish the last
    segment (``out`` stays open)."""
    return PlainCount(primitive.new_encrypting_stream(_Unclosing(out), key.encode()))


def close_sealed(writer: PlainCount) -> None:
    writer.sealed.close()


class OpenedFile(io.RawIOBase):
    """A stored file's plaintext, read a chunk at a time; tink's failures become
    FileUnreadable."""

    def __init__(self, source: IO[bytes], plain: IO[bytes], key: str) -> None:
        self.source, self.plain, self.key = source, plain, key

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self.plain.read(size)
        except tink.TinkError:
            raise FileUnreadable(self.key) from None

    def close(self) -> None:
        try:
            if self.plain is not self.source:
                self.plain.close()
        except tink.TinkError:
            pass
        finally:
            self.source.close()
            super().close()


async def opened(
    settings: Settings,
    subject: str,
    source: IO[bytes],
    key: str,
    encryption: FileEncryption,
) -> OpenedFile:
    """``source`` (the stored bytes) as its plaintext. Raises KeyDestroyed when the owner's
    key is gone."""
    if encryption == FileEncryption.NONE:
        return OpenedFile(source, source, key)
    try:
        primitive = await streaming_aead_of(settings, subject)
    except LookupError:
        raise FileUnreadable(key) from None
    try:
        plain = primitive.new_decrypting_stream(source, key.encode())
    except tink.TinkError:
        raise FileUnreadable(key) from None
    return OpenedFile(source, cast("IO[bytes]", plain), key)


async def put_sealed(
    settings: Settings, storage: Storage, subject: str, key: str, data: bytes
) -> None:
    """Store ``data`` as ``key``, sealed with the subject's key (made now if it has none)."""
    primitive = await streaming_aead_of(settings, subject, create=True)

    def write() -> None:
        with storage.open_write(key) as out:
            writer = seal_writer(primitive, out, key)
            writer.write(data)
            close_sealed(writer)

    await asyncio.to_thread(write)


async def open_stored(
    settings: Settings, storage: Storage, subject: str, key: str, encryption: FileEncryption
) -> OpenedFile | None:
    """The plaintext of a stored file, or None when it is missing."""
    source = await asyncio.to_thread(storage.open_read, key)
    if source is None:
        return None
    try:
        return await opened(settings, subject, source, key, encryption)
    except BaseException:
        source.close()
        raise


def chunks(file: OpenedFile) -> Iterator[bytes]:
    while chunk := file.read(CHUNK):
        yield chunk
