"""Short-lived signed links to a picture's file, so a page can show it in an ``<img>``.

A browser sends no Authorization header with an ``<img src>``, and Accord's tokens never
travel in cookies, so the owner of a private picture could not show it from a header-only
endpoint. ``Picture.url`` is instead ``/pictures/{id}?expires=...&signature=...``: an HMAC
(SHA-256, the deployment's secret key) over the picture id and the expiry. Whoever holds the
link reads the file until it expires; only someone who may read the picture through GraphQL
ever gets one (``api.personal.types.Picture``).

Expiries are rounded up to a whole ``LIFETIME`` window, so the same picture's link stays the
same for a while (the browser and Apollo's cache keep it) and is valid between one and two
``LIFETIME`` after it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import timedelta

from models import clock

#: How long a link is valid at least (and at most twice this).
LIFETIME = timedelta(minutes=5)


def _signature(picture_id: str, expires: int, key: bytes) -> str:
    message = f"picture:{picture_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_path(picture_id: str, key: bytes) -> str:
    """The path (with query) that reads ``picture_id``'s file without a header."""
    window = int(LIFETIME.total_seconds())
    expires = (math.ceil(clock.now().timestamp() / window) + 1) * window
    signature = _signature(picture_id, expires, key)
    return f"/pictures/{picture_id}?expires={expires}&signature={signature}"


def link_is_valid(picture_id: str, expires: str, signature: str, key: bytes) -> bool:
    """True while the link is unexpired and signed with ``key`` for this picture."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return False
    expected = _signature(picture_id, int(expires), key)
    return (
        hmac.compare_digest(expected.encode(), signature.encode())
        and int(expires) > clock.now().timestamp()
    )
