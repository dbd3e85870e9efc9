"""Consent subjects are made and read in one place (``models.consent.ledger``)."""

from __future__ import annotations

import pytest

from models.consent.ledger import (
    SubjectKind,
    account_subject,
    device_subject,
    parse_subject,
    pseudonym_subject,
    subject_account_id,
)
from models.keys.device_refs import device_ref


def test_a_subject_reads_back_as_what_made_it() -> None:
    assert parse_subject(account_subject(42)) == (SubjectKind.ACCOUNT, "42")
    assert subject_account_id(account_subject(42)) == 42
    # A device is named by its reference (a keyed hash), never its id (which may hold ':').
    assert parse_subject(device_subject("ios:AB-12")) == (
        SubjectKind.DEVICE,
        device_ref("ios:AB-12"),
    )
    assert "AB-12" not in device_subject("ios:AB-12")
    assert subject_account_id(device_subject("ios:AB-12")) is None
    kind, name = parse_subject(pseudonym_subject())
    assert kind == SubjectKind.PSEUDONYM and len(name) == 32
    assert subject_account_id(pseudonym_subject()) is None


@pytest.mark.parametrize("text", ["", "account", "account:", "robot:7", ":7"])
def test_a_string_that_is_no_subject_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_subject(text)
