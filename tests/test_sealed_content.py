"""The content tables are sealed like the account (issue 17): feedback, support threads and
messages, favorites, questionnaire answers, error reports, search and click records, devices,
sessions, consent events, notices and passkeys hold ciphertext under their subject's key
(the account's, or an anonymous device's), and an earlier version's plain content is sealed
by ``accord migrate``."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections

from models.consent.ledger import ConsentEvent, device_subject, verify_chain
from models.keys.backfill import seal_plain_values
from models.keys.key_store import SubjectKey
from models.keys.sealed_fields import PREFIX, SealedModel, open_values, sealed_fields_of
from models.personal.error_reports import ErrorReport
from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.rights.requests import DataRequest, DeletionRequest
from tests.accounts_api import PASSWORD, register
from tests.consent_helpers import officer, publish
from tests.device_ids import device_id
from tests.personal_helpers import CLEAR_DEVICE, favorite
from tests.personal_helpers import register as personal_register
from tests.rights_helpers import correction_filed
from tests.test_deletion import Person, fill

#: The tables ``fill`` gives a value in at least one sealed column.
CONTENT_TABLES = {
    "account",
    "feedback",
    "support_thread",
    "support_message",
    "favorite",
    "questionnaire_answer",
    "error_report",
    "search_record",
    "click_record",
    "device",
    "session",
    "consent_event",
    "notification",
}
PUBLIC_FEEDBACK = """{ publicFeedback(subject: "product-42") { edges { node { body } } } }"""


def sealed_models() -> list[type[SealedModel]]:
    return [
        m
        for m in Tortoise.apps.get_models_iterable()
        if issubclass(m, SealedModel) and not m._meta.abstract
    ]


def _columns(model: type[SealedModel]) -> dict[str, str]:
    """Field name -> column, of the model's sealed fields."""
    return {
        f.model_field_name: f.source_field or f.model_field_name for f in sealed_fields_of(model)
    }


async def raw_rows(model: type[SealedModel]) -> list[dict[str, Any]]:
    """The model's rows as the database holds them (no ORM, no keys)."""
    meta = model._meta
    pk = meta.fields_map[meta.pk_attr].source_field or meta.pk_attr
    names = ", ".join(f'"{c}"' for c in [pk, *_columns(model).values()])
    sql = f'SELECT {names} FROM "{meta.db_table}"'
    return [dict(r) for r in await connections.get("default").execute_query_dict(sql)]


def in_clear(model: type[SealedModel], row: dict[str, Any]) -> list[str]:
    """The row's sealed columns that hold a plain value: neither empty, nor ciphertext, nor
    one of the field's placeholders (a sent code's text, not personal)."""
    return [
        column
        for field in sealed_fields_of(model)
        if (value := row[column := field.source_field or field.model_field_name])
        and not str(value).startswith(PREFIX)
        and value not in field.placeholders
    ]


async def write_raw(model: type[SealedModel], key: Any, column: str, value: Any) -> None:
    """Change one column behind the service's back, as an earlier version stored it."""
    db = connections.get("default")
    meta = model._meta
    pk = meta.fields_map[meta.pk_attr].source_field or meta.pk_attr
    marks = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
    sql = f'UPDATE "{meta.db_table}" SET "{column}" = {marks[0]} WHERE "{pk}" = {marks[1]}'
    await db.execute_query(sql, [value, key if db.capabilities.dialect == "postgres" else str(key)])


async def opened_content() -> dict[str, dict[Any, dict[str, Any]]]:
    """Every sealed model's rows, read through the ORM (opened): table -> key -> values."""
    found: dict[str, dict[Any, dict[str, Any]]] = {}
    for model in sealed_models():
        names = list(_columns(model))
        rows = await model.all()
        found[model._meta.db_table] = {
            row.pk: {name: getattr(row, name) for name in names} for row in rows
        }
    return found


async def test_every_sealed_column_holds_only_ciphertext(world):
    app, tokens, _ = world
    alice = Person(app, "alice.sealed", "198.51.100.23", "AliceBrowser/7.1")
    await fill(app, alice, "alice", **tokens)

    holding, plain = set(), []
    for model in sealed_models():
        for row in await raw_rows(model):
            if any(row[c] for c in _columns(model).values()):
                holding.add(model._meta.db_table)
            plain += [(model._meta.db_table, c) for c in in_clear(model, row)]
    assert plain == []
    assert holding >= CONTENT_TABLES  # the scan saw each kind of content
    # ... and the service reads them back.
    listed = await app.gql(PUBLIC_FEEDBACK)
    bodies = {e["node"]["body"] for e in listed["data"]["publicFeedback"]["edges"]}
    assert bodies == {"alice public body"}


async def test_an_earlier_versions_plain_content_is_sealed_by_migrate(world):
    app, tokens, _ = world
    alice = Person(app, "alice.legacy", "198.51.100.23", "AliceBrowser/7.1")
    await fill(app, alice, "alice", **tokens)
    before = await opened_content()
    # As an earlier Accord stored them: plain text and JSON, no blind index of the subject.
    for model in sealed_models():
        if model._meta.db_table == "account":
            continue  # test_sealed_fields covers the account's own columns
        fields = {f.model_field_name: f for f in sealed_fields_of(model)}
        for key, values in before[model._meta.db_table].items():
            for name, value in values.items():
                if value not in (None, ""):
                    column = _columns(model)[name]
                    await write_raw(model, key, column, fields[name].dump(value))
    await Feedback.all().update(subject_index=None)
    await Favorite.all().update(item_index=None)
    assert (await app.gql(PUBLIC_FEEDBACK))["data"]["publicFeedback"]["edges"] == []

    assert await seal_plain_values() > len(CONTENT_TABLES)
    for model in sealed_models():
        for row in await raw_rows(model):
            assert in_clear(model, row) == [], model._meta.db_table
    assert await opened_content() == before
    listed = await app.gql(PUBLIC_FEEDBACK)
    assert [e["node"]["body"] for e in listed["data"]["publicFeedback"]["edges"]] == [
        "alice public body"
    ]
    assert await seal_plain_values() == 0  # nothing left: a second run changes nothing
    # The favorite's index is back: adding the same item again finds the one kept.
    [kept] = await Favorite.all()
    await alice(
        """mutation { addFavorite(input: {itemType: "product", itemId: "alice-fav-item"})
        { errors { code } } }"""
    )
    assert [f.id for f in await Favorite.all()] == [kept.id]


async def test_an_anonymous_devices_reports_open_only_until_its_data_is_cleared(gql):
    device = device_id("anon-sealed")
    reported = await gql(
        """mutation($i: ReportErrorInput!) { reportError(input: $i) { errors { code } } }""",
        {"i": {"message": "anonymous crash text", "stack": "at anon()", "deviceId": device}},
    )
    assert reported["data"]["reportError"]["errors"] == []
    [row] = await raw_rows(ErrorReport)
    assert row["message"].startswith(PREFIX)
    ref = int(row["message"].removeprefix(PREFIX).split(".", 1)[0])
    key = await SubjectKey.get(id=ref)
    # The device's own key, named by a keyed hash: the key store holds no device id.
    assert key.subject == device_subject(device) and device not in key.subject
    copy = {"message": row["message"], "stack": row["stack"]}
    await open_values(ErrorReport, [copy])
    assert copy == {"message": "anonymous crash text", "stack": "at anon()"}

    cleared = (await gql(CLEAR_DEVICE, {"deviceId": device}))["data"]["clearDeviceData"]
    assert cleared["errors"] == [] and cleared["cleared"]["errorReports"] == 1
    assert not await SubjectKey.filter(id=ref).exists()
    # A copy of the row taken before (a backup) no longer opens.
    copy = {"message": row["message"], "stack": row["stack"]}
    await open_values(ErrorReport, [copy])
    assert copy == {"message": "", "stack": ""}
    # The same id sent again gets a new key: the old reference stays unreadable.
    await gql(
        """mutation($i: ReportErrorInput!) { reportError(input: $i) { errors { code } } }""",
        {"i": {"message": "later crash", "deviceId": device}},
    )
    [again] = await raw_rows(ErrorReport)
    assert int(again["message"].removeprefix(PREFIX).split(".", 1)[0]) != ref


async def test_a_linked_devices_history_keeps_its_key_and_verifies_after_a_clear(gql):
    """A device's chain, once linked to an account, is the account's: clearing the device's
    data keeps it, and the key its browser and address are sealed under, so it verifies."""
    staff = await officer(gql)
    await publish(gql, staff.token, "v1")
    device = device_id("linked-sealed")
    phone = {"user-agent": "LinkedPhone/2.0", "x-forwarded-for": "203.0.113.77"}
    granted = await gql(
        """mutation($i: SetConsentsInput!) { setConsents(input: $i) { errors { code } } }""",
        {
            "i": {
                "policyVersion": "v1",
                "deviceId": device,
                "decisions": [{"purpose": "analytics", "granted": True}],
            }
        },
        headers=phone,
    )
    assert granted["data"]["setConsents"]["errors"] == []
    [row] = await raw_rows(ConsentEvent)
    assert row["user_agent"].startswith(PREFIX) and row["client_address"].startswith(PREFIX)
    [event] = await ConsentEvent.filter(subject=device_subject(device))
    assert (event.user_agent, event.client_address) == ("LinkedPhone/2.0", "203.0.113.0")
    registered = await gql(
        """mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }""",
        {
            "i": {
                "accountName": "erin.linked",
                "password": "correct horse battery staple",
                "nickname": "Erin",
                "deviceId": device,
            }
        },
    )
    token = registered["data"]["register"]["token"]
    cleared = (await gql(CLEAR_DEVICE, {"deviceId": device}, token=token))["data"]
    assert cleared["clearDeviceData"]["errors"] == []
    assert cleared["clearDeviceData"]["cleared"]["consentEvents"] == 0  # the account's now
    assert (await verify_chain(device_subject(device))).ok
    [kept] = await ConsentEvent.filter(subject=device_subject(device))
    assert kept.user_agent == "LinkedPhone/2.0"


async def test_a_cancellations_reason_is_sealed(gql):
    """The user's own words, kept for the grace period: sealed under the request's key."""
    payload = await register(gql, "ruth.leaving")
    cancelled = await gql(
        """mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }""",
        {"i": {"password": PASSWORD, "reason": "too many e-mails"}},
        token=payload["token"],
    )
    assert cancelled["data"]["cancelAccount"]["errors"] == []
    [row] = await raw_rows(DeletionRequest)
    assert row["reason"].startswith(PREFIX)
    assert (await DeletionRequest.get()).reason == "too many e-mails"


async def test_what_a_data_request_asks_is_sealed(gql):
    """A correction's requested value and note: the user's own words, sealed; so is the
    region whose law set its period (the account's)."""
    alice = await personal_register(gql, "alice")
    moved = await gql(
        'mutation { updateProfile(input: {region: "fr"}) { errors { code } } }', token=alice.token
    )
    assert moved["data"]["updateProfile"]["errors"] == []
    kept = await favorite(gql, alice.token, itemId="sku-1", note="for me")
    await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=kept["id"],
        requestedValue="for my sister",
        note="I mistyped",
    )
    [row] = await raw_rows(DataRequest)
    assert row["details"].startswith(PREFIX) and "sister" not in row["details"]
    assert row["region"].startswith(PREFIX)
    request = await DataRequest.get()
    assert request.region == "FR"
    details = request.details
    assert (details["requestedValue"], details["note"]) == ("for my sister", "I mistyped")
