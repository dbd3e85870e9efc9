"""A load generator light enough not to be what a benchmark measures.

httpx costs about a millisecond of CPU per request; on a two-core machine that is as much as
the bare baseline's whole request, so the baseline would measure the client. Here each
client is one keep-alive HTTP/1.1 connection sending the same prepared bytes and reading
the answer by its Content-Length: some tens of microseconds a request.

``pinned`` keeps the server under test and the load generator on different cores, so
neither steals the other's time and both servers are measured on equal terms.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager


def request_bytes(method: str, path: str, headers: dict[str, str], body: object = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "host: bench", f"content-length: {len(payload)}"]
    if body is not None:
        lines.append("content-type: application/json")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head[9:12]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    if status != b"200":
        raise RuntimeError(f"HTTP {status.decode()}: {body[:200]!r}")
    return body


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def hammer(port: int, request: bytes, seconds: float, clients: int) -> float:
    """Requests per second that ``clients`` connections sustain for ``seconds``."""
    done = 0

    async def client() -> None:
        nonlocal done
        reader, writer = await connect(port)
        try:
            while time.perf_counter() < stop:
                await exchange(reader, writer, request)
                done += 1
        finally:
            writer.close()

    started = time.perf_counter()
    stop = started + seconds
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.perf_counter() - started)


async def fetch(port: int, request: bytes) -> bytes:
    reader, writer = await connect(port)
    try:
        return await exchange(reader, writer, request)
    finally:
        writer.close()


def server_cpus() -> set[int] | None:
    """The cores a server under test may use: all but the last, kept for the load."""
    cpus = sorted(os.sched_getaffinity(0))
    return set(cpus[:-1]) if len(cpus) > 1 else None


def pin_server() -> None:
    """``preexec_fn`` of a server process (inherited by its threads)."""
    if (cpus := server_cpus()) is not None:
        os.sched_setaffinity(0, cpus)


@contextmanager
def pinned_load() -> Iterator[None]:
    """Run the load generator (this process) on the core the servers do not use."""
    before = os.sched_getaffinity(0)
    cpus = sorted(before)
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[-1]})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
