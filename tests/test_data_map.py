"""The one map of personal data (issue 16): its declaration names real fields, purposes,
settings and deletion steps, and ``dataMap`` publishes exactly it to the privacy office.

That every model is in the map or declared to hold no personal data is checked beside the
deletion scan (``tests/test_deletion.py``)."""

from __future__ import annotations

from tortoise.models import Model

from accord.settings import Settings
from models.accounts.account import Role
from models.consent.purposes import DEFAULT_PURPOSES, LegalBasis
from models.personal.consent_bound import BOUND_KINDS
from models.rights.data_map import DATA_MAP, NO_PERSONAL_DATA, Erasure, Export, Step
from models.rights.deletion import _steps
from tests.consent_helpers import register

DATA_MAP_QUERY = """{ dataMap {
  kinds { kind table fields categories purposes legalBasis retention
          retentionSetting { name value } foundBy erasure erasedFields { field becomes }
          erasureNote deletionStep export exportNote notExported correctableFields
          erasableOnRequest }
  tablesWithoutPersonalData { table reason } } }"""


def has_field(model: type[Model], path: str) -> bool:
    """``path`` is a field of ``model``, or a lookup through its relations (``thread__x``)."""
    head, _, rest = path.partition("__")
    field = model._meta.fields_map.get(head)
    if field is None:
        return False
    if not rest:
        return True
    related = getattr(field, "related_model", None)
    return related is not None and has_field(related, rest)


async def test_every_field_the_map_names_exists_on_its_model(app):
    missing = []
    for entry in DATA_MAP:
        named = [
            *entry.fields,
            *entry.anonymised,
            *(
                f
                for f in (
                    entry.account_field,
                    entry.device_field,
                    entry.subject_field,
                    entry.staff_field,
                )
                if f
            ),
        ]
        missing += [(entry.kind, name) for name in named if not has_field(entry.model, name)]
    assert missing == []
    assert has_field(DATA_MAP[0].model, "account_name")
    assert not has_field(DATA_MAP[0].model, "shoe_size")


async def test_the_map_declares_each_kind_once_with_what_it_promises(app):
    kinds = [entry.kind for entry in DATA_MAP]
    assert len(kinds) == len(set(kinds))
    assert {
        "Account", "Session", "Binding", "Favorite", "Feedback", "Picture", "SearchRecord",
        "ClickRecord", "ErrorReport", "Device", "SupportThread", "SupportMessage",
        "QuestionnaireAnswer", "Notification", "ConsentEvent", "DeviceLink", "StaffAuditEntry",
        "DeletionRequest", "ContactVerification", "TotpCredential", "RecoveryCode",
        "SignInChallenge", "Passkey", "WebAuthnUser", "WebAuthnChallenge", "KnownSignIn",
        "SignInNotice",
    } <= set(kinds)  # fmt: skip
    purposes = {p["code"] for p in DEFAULT_PURPOSES}
    settings = set(Settings.model_fields)
    for entry in DATA_MAP:
        assert entry.fields and entry.categories and entry.retention, entry.kind
        assert set(entry.purposes) <= purposes, entry.kind
        assert entry.retention_setting is None or entry.retention_setting in settings, entry.kind
        # Every way of being found leads somewhere, except rows written by the erasure.
        assert entry.found_by or entry.erasure == Erasure.KEPT_UNTIL_EXPIRY, entry.kind
        # Kept rows say what becomes of them; what is not exported says why.
        if entry.erasure in (Erasure.ANONYMISE, Erasure.PSEUDONYMISE, Erasure.KEEP_AS_TOMBSTONE):
            assert entry.anonymised, entry.kind
        if entry.export == Export.NOT_EXPORTED:
            assert entry.export_note, entry.kind
    assert all(reason for reason in NO_PERSONAL_DATA.values())


def test_deletion_runs_the_steps_the_map_names_in_order(tmp_path):
    names = [name for name, _ in _steps(Settings(data_dir=tmp_path), storage=None)]  # type: ignore[arg-type]
    assert names == [
        "feedback",
        "support",
        "data_keys",
        "sessions",
        "devices_and_activity",
        "favorites_and_answers",
        "pictures",
        "notifications",
        "consent",
    ]
    assert {str(entry.step) for entry in DATA_MAP} <= {*names, str(Step.TOMBSTONE)}


async def test_the_privacy_office_reads_the_data_map(gql, settings):
    officer = await register(gql, "map.officer", role=Role.PRIVACY_OFFICER)
    admin = await register(gql, "map.admin", role=Role.ADMIN)
    for token in (officer.token, admin.token):
        answer = (await gql(DATA_MAP_QUERY, token=token))["data"]["dataMap"]
        assert [k["kind"] for k in answer["kinds"]] == [entry.kind for entry in DATA_MAP]
        assert {t["table"] for t in answer["tablesWithoutPersonalData"]} == set(NO_PERSONAL_DATA)
    by_kind = {k["kind"]: k for k in answer["kinds"]}
    search = by_kind["SearchRecord"]
    assert "keywords" in search["fields"] and search["purposes"] == ["activity_log"]
    assert search["legalBasis"] == "CONSENT" and search["erasure"] == "DELETE"
    assert search["retentionSetting"] == {
        "name": "ACCORD_ACTIVITY_RETENTION_DAYS",
        "value": str(settings.activity_retention_days),
    }
    assert "ACTIVITY" in search["categories"] and search["deletionStep"] == "devices_and_activity"
    account = by_kind["Account"]
    assert account["erasure"] == "KEEP_AS_TOMBSTONE"
    assert {"field": "email", "becomes": "NULL"} in account["erasedFields"]
    assert by_kind["ConsentEvent"]["erasure"] == "PSEUDONYMISE"
    assert by_kind["SignInChallenge"]["export"] == "NOT_EXPORTED"
    assert by_kind["SignInChallenge"]["exportNote"]
    # What a user may ask staff to correct or erase.
    assert by_kind["Feedback"]["correctableFields"] == ["subject", "body"]
    assert by_kind["Feedback"]["erasableOnRequest"] is True
    assert by_kind["ConsentEvent"]["correctableFields"] == []
    assert by_kind["ConsentEvent"]["erasableOnRequest"] is False
    assert by_kind["Account"]["erasableOnRequest"] is False
    assert by_kind["Account"]["notExported"] == [
        "password_hash",
        "account_name_index",
        "email_index",
        "phone_index",
    ]
    assert by_kind["Binding"]["notExported"] == ["subject_index"]
    assert by_kind["TotpCredential"]["notExported"] == ["secret"]


async def test_only_the_privacy_office_reads_the_data_map(gql):
    user = await register(gql, "map.user")
    support = await register(gql, "map.support", role=Role.SUPPORT)
    for token, code in (
        (user.token, "FORBIDDEN"),
        (support.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        body = await gql(DATA_MAP_QUERY, token=token, expect_errors=True)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]


def test_what_withdrawal_erases_is_declared_in_the_map_as_resting_on_that_consent():
    """``models.personal.consent_bound`` erases a kind when its purpose is withdrawn: the map
    must say the same, that the kind rests on consent to that one purpose."""
    by_model = {entry.model: entry for entry in DATA_MAP}
    for bound in BOUND_KINDS:
        entry = by_model[bound.model]
        assert entry.legal_basis == LegalBasis.CONSENT, entry.kind
        assert entry.purposes == (bound.purpose,), entry.kind
