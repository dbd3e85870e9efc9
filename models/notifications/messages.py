"""What a campaign's notification says: rendered from a Jinja2 template per kind.

One template per kind holds a ``subject`` and a ``body`` block; the incident template carries
what the policy promises to say: the basic information and possible impact, the measures
taken, the advice users can follow, and the remedies. Rendered once per campaign, not per
message (every recipient of a campaign gets the same text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from models.notifications.inbox import NotificationKind

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain text e-mail and SMS: nothing is HTML, so nothing is HTML-escaped.
    return Environment(  # noqa: S701
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )


def render(kind: NotificationKind, content: dict[str, Any]) -> Message:
    template = _environment().get_template(f"{kind}.txt")
    context = template.new_context(dict(content))
    subject = "".join(template.blocks["subject"](context)).strip()
    body = "".join(template.blocks["body"](context)).strip()
    return Message(subject=subject, body=body)
