"""Error reports from clients: the message, stack and device configuration when an app fails.

Accepted signed in or anonymously with a device id; size-limited so a report cannot be used
to fill the database.
"""

from __future__ import annotations

import json
import unicodedata

from tortoise import fields

from models.accounts.account import Account
from models.consent.ledger import clean_device_id, truncate_address
from models.errors import DomainError
from models.keys.data_keys import recorder_subject
from models.keys.device_refs import device_ref
from models.keys.sealed_fields import SealedField, SealedJSONField, SealedManager, SealedModel
from models.personal.errors import PersonalDataErrorCode
from models.stored_json import storable_json


class ErrorReport(SealedModel):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="error_reports",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int | None  # set by the ORM
    # The device's reference (``models.keys.device_refs``), never its id.
    device_id = fields.CharField(max_length=128, null=True, db_index=True)
    message = SealedField()
    stack = SealedField(default="")
    device_config = SealedJSONField(default=dict)
    app_version = fields.CharField(max_length=50, default="")
    client_address = SealedField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        manager = SealedManager()
        table = "error_report"

    def sealed_subject(self) -> str | None:
        """The account's key; for an anonymous device's record, the device's."""
        return recorder_subject(self.account_id, self.device_id)


def _bad_text(value: str, allowed: str = "") -> bool:
    """Control characters (but ``allowed``), or lone surrogates no database column can hold."""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in value)


#: How deeply a JSON value may nest (deeper is no device configuration, only an attack).
JSON_DEPTH_MAX = 32


async def report_error(
    account: Account | None,
    *,
    message: str,
    stack: str | None,
    device_config: object,
    app_version: str | None,
    device_id: str | None,
    client_address: str,
    max_bytes: int,
) -> ErrorReport:
    if account is None and not device_id:
        raise DomainError(
            PersonalDataErrorCode.NOT_AUTHENTICATED, "deviceId", "sign in or give a deviceId"
        )
    if device_id is not None:
        device_id = clean_device_id(device_id)
    if not message.strip():
        raise DomainError(PersonalDataErrorCode.REQUIRED, "message", "describe the error")
    too_large = DomainError(
        PersonalDataErrorCode.TOO_LARGE, None, f"an error report may be at most {max_bytes} bytes"
    )
    if len(message) + len(stack or "") + len(app_version or "") > max_bytes:
        raise too_large  # before scanning it: a character is at least a byte
    if device_config is None:
        device_config = {}
    if not isinstance(device_config, dict):
        raise DomainError(PersonalDataErrorCode.INVALID, "deviceConfig", "must be a JSON object")
    if not storable_json(device_config, JSON_DEPTH_MAX):
        raise DomainError(
            PersonalDataErrorCode.INVALID,
            "deviceConfig",
            f"must nest at most {JSON_DEPTH_MAX} levels and not contain NUL, lone surrogates "
            "or non-finite numbers",
        )
    for field, text in (("message", message), ("stack", stack or "")):
        if _bad_text(text, allowed="\n\r\t"):
            raise DomainError(
                PersonalDataErrorCode.INVALID, field, "must not contain control characters"
            )
    if app_version and _bad_text(app_version):
        raise DomainError(
            PersonalDataErrorCode.INVALID, "appVersion", "must not contain control characters"
        )
    size = (
        len(message.encode())
        + len((stack or "").encode())
        + len(json.dumps(device_config).encode())
        + len((app_version or "").encode())
    )
    if size > max_bytes:
        raise too_large
    if app_version and len(app_version) > 50:
        raise DomainError(
            PersonalDataErrorCode.INVALID, "appVersion", "must be at most 50 characters"
        )
    return await ErrorReport.create(
        account=account,
        device_id=None if device_id is None else device_ref(device_id),
        message=message,
        stack=stack or "",
        device_config=device_config,
        app_version=app_version or "",
        client_address=truncate_address(client_address),
    )
