"""Signing a webhook request as the Standard Webhooks spec says, with its own library.

Headers: ``webhook-id`` (the delivery's message id, the same on every attempt and replay),
``webhook-timestamp`` (seconds since the epoch, when sent) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` under the endpoint's secret,
``whsec_<base64>``). A receiver checks it with any Standard Webhooks library and refuses a
timestamp more than a few minutes off, which stops replays of a captured request.
"""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook


def headers(secret: str, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """The three headers, and the JSON content type."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body),
    }
