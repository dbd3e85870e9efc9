"""Device ids as apps make them: random, never guessable (``DEVICE_ID_RULE``).

An anonymous device id acts as a secret until an account signs in on the device, so Accord
refuses short or patterned ones. ``device_id("phone")`` names a device the way a test
thinks of it and gives the id an app would have made for it: the name, then a random UUID,
the same for that name throughout the run.
"""

from __future__ import annotations

import functools
import uuid


@functools.cache
def device_id(name: str = "device") -> str:
    return f"{name}-{uuid.uuid4()}"


def new_device_id() -> str:
    """A device id no other call returns (a fresh installation)."""
    return str(uuid.uuid4())
