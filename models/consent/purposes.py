"""Purposes: what personal data is used for. Consent is always given to a purpose.

A purpose's ``code`` is stable and is what events, inputs and receipts name. Staff manage
purposes; a required purpose (the service cannot run without it) cannot be withdrawn.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.consent.errors import ConsentErrorCode
from models.errors import DomainError
from models.text import clean_text

CODE_MAX = 64


class LegalBasis(StrEnum):
    CONSENT = "CONSENT"
    CONTRACT = "CONTRACT"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    LEGITIMATE_INTEREST = "LEGITIMATE_INTEREST"
    VITAL_INTEREST = "VITAL_INTEREST"
    PUBLIC_TASK = "PUBLIC_TASK"


class Purpose(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=CODE_MAX, unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    required = fields.BooleanField(default=False)
    legal_basis = fields.CharEnumField(LegalBasis, max_length=32, default=LegalBasis.CONSENT)
    #: Kantara Consent Receipt purpose category, e.g. "Core Function", "Marketing".
    category = fields.CharField(max_length=100, default="Core Function")
    # A sale or sharing of personal information that a Global Privacy Control signal
    # (Sec-GPC: 1) opts out of (models.consent.global_privacy_control)
    gpc_opt_out = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "purpose"
        ordering = ["id"]


DEFAULT_PURPOSES: list[dict[str, Any]] = [
    {
        "code": "necessary",
        "title": "Running the service",
        "description": "Sign-in, security and the features you ask for. Always on.",
        "required": True,
        "legal_basis": LegalBasis.CONTRACT,
        "category": "Core Function",
    },
    {
        "code": "personalization",
        "title": "Personalization",
        "description": "Recommendations and content tailored to what you use.",
        "category": "Personalisation",
    },
    {
        "code": "analytics",
        "title": "Analytics",
        "description": "Aggregated usage statistics that help us improve the service.",
        "category": "Improve Performance",
    },
    {
        "code": "advertising",
        "title": "Advertising",
        "description": "Ads chosen for you, and sharing with advertising partners.",
        "category": "Marketing",
        "gpc_opt_out": True,
    },
    {
        "code": "activity_log",
        "title": "Activity log",
        "description": "Keeping the search keywords you enter and the links you click; "
        "withdrawing erases them.",
        "category": "Personalisation",
    },
]


async def ensure_default_purposes() -> int:
    """Insert the default purposes that are missing; never changes existing ones."""
    existing = set(await Purpose.all().values_list("code", flat=True))
    missing = [Purpose(**p) for p in DEFAULT_PURPOSES if p["code"] not in existing]
    if missing:
        await Purpose.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def clean_code(raw: str, field: str = "code") -> str:
    code = raw.strip().lower()
    if not code or len(code) > CODE_MAX or not all(c.isalnum() or c in "_-." for c in code):
        raise DomainError(
            ConsentErrorCode.INVALID,
            field,
            f"must be 1-{CODE_MAX} characters of a-z, 0-9, '_', '-', '.'",
        )
    return code


async def create_purpose(
    *,
    code: str,
    title: str,
    description: str,
    required: bool,
    legal_basis: LegalBasis,
    category: str,
    gpc_opt_out: bool = False,
) -> Purpose:
    code = clean_code(code)
    if required and gpc_opt_out:
        raise DomainError(
            ConsentErrorCode.INVALID, "gpcOptOut", "a required purpose cannot be opted out of"
        )
    if await Purpose.filter(code=code).exists():
        raise DomainError(ConsentErrorCode.UNIQUE, "code", "a purpose with this code exists")
    return await Purpose.create(
        code=code,
        title=clean_text(title, "title", 200),
        description=clean_text(description, "description", 5000, multiline=True),
        required=required,
        legal_basis=legal_basis,
        category=clean_text(category, "category", 100),
        gpc_opt_out=gpc_opt_out,
    )


async def update_purpose(code: str, changes: dict[str, Any]) -> Purpose:
    """Title, description, category, legal basis and whether a Global Privacy Control
    signal opts out of it may change; the code never does."""
    purpose = await Purpose.get_or_none(code=code)
    if purpose is None:
        raise DomainError(ConsentErrorCode.NOT_FOUND, "code", "no such purpose")
    limits = {"title": 200, "description": 5000, "category": 100}
    for name, value in changes.items():
        setattr(
            purpose,
            name,
            clean_text(value, name, limits[name], multiline=name == "description")
            if name in limits
            else value,
        )
    if purpose.required and purpose.gpc_opt_out:
        raise DomainError(
            ConsentErrorCode.INVALID, "gpcOptOut", "a required purpose cannot be opted out of"
        )
    if changes:
        await purpose.save(update_fields=[*changes, "updated_at"])
    return purpose
