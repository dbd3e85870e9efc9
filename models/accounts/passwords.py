"""Password hashing with argon2id, always off the event loop.

argon2-cffi releases the GIL while it hashes, so a thread pool with one thread per core
uses every core without blocking the loop. The pool's threads run at a lower CPU priority
than the loop: in a login flood every core is hashing, and the loop would otherwise wait
behind the hashes for a turn on a core (a health probe then waited up to 12 ms for it).
The other side of it: a busy process at normal priority on the same cores (a worker beside
the API, as in ``accord dev``) comes first too; ``ACCORD_PASSWORD_HASH_NICE=0`` turns it off.

An unknown account name is checked against a dummy hash of the same cost, so "no such
account" and "wrong password" take the same time.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from accord.settings import Settings
from models.accounts import breaches
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError

#: zxcvbn refuses longer input (its matching is superlinear); the first 72 characters of a
#: password decide its strength.
ZXCVBN_MAX_INPUT = 72

T = TypeVar("T")


def _lower_priority(increment: int) -> None:
    """Lower the calling thread's priority (Linux schedules threads one by one; elsewhere
    the priority belongs to the whole process, which is left alone)."""
    if increment and sys.platform == "linux":
        thread = threading.get_native_id()
        nice = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, nice + increment))


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        workers = settings.password_hash_workers or os.cpu_count() or 1
        self.pool = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
            initargs=(settings.password_hash_nice,),
        )

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash("accord-dummy-password-for-equal-timing")

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a missing hash still costs one full verification."""
        target = stored_hash or await self._run(lambda: self._dummy_hash)
        try:
            ok = await self._run(self.hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(ok) and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)

    async def check_strength(
        self, password: str, user_inputs: list[str], field: str = "password"
    ) -> None:
        """Refuse a common or breached password (``models.accounts.breaches``), and one
        that zxcvbn scores below the configured minimum (ASVS 6.2.4)."""
        breaches.refuse_common(password, field)
        inputs = [i for i in user_inputs if i]
        # Judged in NFKC form: "password1234" in fullwidth letters is as weak as in ASCII.
        judged = unicodedata.normalize("NFKC", password)[:ZXCVBN_MAX_INPUT]
        result = await self._run(
            functools.partial(zxcvbn, judged, inputs, max_length=ZXCVBN_MAX_INPUT)
        )
        if result["score"] < self.settings.min_password_score:
            hint = result["feedback"].get("warning") or "choose a longer, less common password"
            raise DomainError(
                AccountErrorCode.WEAK_PASSWORD, field, f"password is too weak: {hint}"
            )
        # Last: a network call, made only for a password that passed everything else.
        await breaches.refuse_pwned(password, self.settings, field)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
