"""Correction and erasure on request, and the privacy office's decisions (issue 16).

A user files a correction of what they cannot change themselves, or an erasure of some of
their data; both are VERIFIED at once (recent authentication) and follow the clock. A
PRIVACY_OFFICER fulfils (the row changes; the rows are erased through the map, as account
deletion erases them) or rejects with a reason the user reads. The map decides what may be
asked (``PersonalData.correctable``, ``erasure_refusal``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from models.accounts.account import Account, Role
from models.personal.activity import SearchRecord
from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from models.personal.support import SupportMessage, SupportThread
from models.rights.data_map import DATA_MAP, DataCategory
from models.rights.data_requests import file_request
from models.rights.requests import DataRequest, DataRequestKind
from tests.conftest import GraphQL
from tests.ids import gid, key, pk
from tests.personal_helpers import (
    PASSWORD,
    RECORD_SEARCH,
    REMOVE_FAVORITE,
    codes,
    decide_activity_log,
    favorite,
    register,
    submitted,
    thread,
    uploaded,
)
from tests.rights_helpers import (
    AUDIT_LOG,
    OPEN_REQUEST,
    correction_filed,
    decide,
    decided,
    erasure_filed,
    my_requests,
    notices,
    request_correction,
    request_erasure,
)
from tests.second_factor_helpers import Moment, enroll


async def officer(gql, name: str = "officer"):
    return await register(gql, name, role=Role.PRIVACY_OFFICER)


async def opened(gql, token: str, request_id: str, reason: str = "deciding it") -> dict:
    body = await gql(OPEN_REQUEST, {"id": request_id, "reason": reason}, token=token)
    return body["data"]["dataRequest"]


async def searched(gql, token: str, *keywords: str) -> list[int]:
    """Search records for the account of ``token``, by row id (they have no GraphQL type)."""
    await decide_activity_log(gql, True, token=token)
    for words in keywords:
        body = await gql(RECORD_SEARCH, {"input": {"keywords": words}}, token=token)
        assert body["data"]["recordSearch"]["recorded"] is True
    # Sealed: opened row by row, never compared in SQL.
    return [r.id for r in await SearchRecord.all().order_by("id") if r.keywords in keywords]


async def storage_file(settings, picture_id: str):
    row = await Picture.get(id=key(picture_id))
    return settings.data_dir / "files" / row.storage_key


# --- correction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "stored"),
    [
        ("SupportMessage", "body", "body"),
        ("Feedback", "body", "body"),
        ("SupportThread", "orderRef", "order_ref"),
    ],
)
async def test_a_fulfilled_correction_changes_the_row(gql, kind, field, stored):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    opened_thread = await thread(
        gql, alice.token, subject="Parcel", message="Send it to 1 Rue Faux", orderRef="A-1"
    )
    item = await submitted(gql, alice.token, body="The parcel came to 1 Rue Faux")
    row_id = {
        "SupportMessage": opened_thread["messages"][0]["id"],
        "Feedback": item["id"],
        "SupportThread": opened_thread["id"],
    }[kind]
    model = {
        "SupportMessage": SupportMessage,
        "Feedback": Feedback,
        "SupportThread": SupportThread,
    }[kind]
    before = getattr(await model.get(id=pk(row_id)), stored)

    request = await correction_filed(
        gql,
        alice.token,
        kind=kind,
        field=field,
        rowId=row_id,
        requestedValue="2 Rue Vraie",
        note="I mistyped",
    )
    assert request["kind"] == "CORRECTION" and request["status"] == "VERIFIED"
    assert request["dueAt"] is not None
    assert request["asked"]["correction"] == {
        "kind": kind,
        "field": stored,
        "rowId": str(pk(row_id)),
        "requestedValue": "2 Rue Vraie",
    }
    assert request["asked"]["note"] == "I mistyped"
    # Nothing changes until an officer decides.
    assert getattr(await model.get(id=pk(row_id)), stored) == before

    seen = await opened(gql, staff.token, request["id"], "the user's correction request")
    assert seen["asked"]["correction"]["currentValue"] == before
    done = await decided(gql, staff.token, request["id"], "FULFIL")
    assert done["status"] == "COMPLETED" and done["completedAt"] is not None
    assert getattr(await model.get(id=pk(row_id)), stored) == "2 Rue Vraie"
    mine = await my_requests(gql, alice.token)
    assert [(r["id"], r["status"]) for r in mine] == [(request["id"], "COMPLETED")]
    [notice] = [n for n in await notices(gql, alice.token) if n["kind"] == "DATA_REQUEST_DECIDED"]
    assert "done" in notice["title"]


async def test_a_rejected_correction_leaves_the_row_and_the_user_reads_why(gql):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    item = await submitted(gql, alice.token, body="Five stars, says my neighbour Bob Smith")
    request = await correction_filed(
        gql, alice.token, kind="Feedback", field="body", rowId=item["id"], requestedValue="x"
    )
    refused = await decide(gql, staff.token, request["id"], "REJECT")
    assert codes(refused) == [("INVALID", "reason")]
    assert refused["request"] is None
    reason = "The review was published as written; delete it and write a new one instead."
    done = await decided(gql, staff.token, request["id"], "REJECT", reason)
    assert done["status"] == "REJECTED" and done["reason"] == reason
    assert (await Feedback.get(id=pk(item["id"]))).body == "Five stars, says my neighbour Bob Smith"
    [mine] = await my_requests(gql, alice.token)
    assert mine["status"] == "REJECTED" and mine["reason"] == reason
    assert mine["asked"]["correction"] == {"field": "body", "requestedValue": "x"}
    [notice] = [n for n in await notices(gql, alice.token) if n["kind"] == "DATA_REQUEST_DECIDED"]
    assert reason in notice["body"] and "declined" in notice["title"]


async def test_a_correction_names_a_correctable_field_of_ones_own_row(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    mine = await submitted(gql, alice.token, body="mine")
    await submitted(gql, alice.token, body="mine too")
    theirs = await submitted(gql, bob.token, body="theirs")
    favorite_id = (await favorite(gql, alice.token))["id"]

    async def refused(**given) -> list[tuple[str, str | None]]:
        result = await request_correction(gql, alice.token, **given)
        assert result["request"] is None
        return codes(result)

    feedback = {"kind": "Feedback", "field": "body", "requestedValue": "new"}
    # Another user's row answers as a row that does not exist.
    assert await refused(**feedback, rowId=theirs["id"]) == [("NOT_FOUND", "rowId")]
    assert await refused(**feedback, rowId=str(pk(theirs["id"]))) == [("NOT_FOUND", "rowId")]
    assert await refused(**feedback, rowId=favorite_id) == [("NOT_FOUND", "rowId")]
    assert await refused(**feedback, rowId=gid("Feedback", 424242)) == [("NOT_FOUND", "rowId")]
    # Two feedback items: which one?
    assert await refused(**feedback) == [("REQUIRED", "rowId")]
    # The account is the user's own to change; records are never rewritten.
    nickname = await request_correction(
        gql, alice.token, kind="Account", field="nickname", requestedValue="Al"
    )
    assert codes(nickname) == [("NOT_CORRECTABLE", "field")]
    assert "updateProfile" in nickname["errors"][0]["message"]
    for kind, field in (
        ("Feedback", "created_at"),
        ("Feedback", "createdAt"),
        ("Feedback", "shoe_size"),
        ("ConsentEvent", "hash"),
        ("ConsentEvent", "purpose_code"),
        ("SearchRecord", "keywords"),
        ("Session", "user_agent"),
    ):
        given = {"kind": kind, "field": field, "requestedValue": "x", "rowId": mine["id"]}
        assert await refused(**given) == [("NOT_CORRECTABLE", "field")], (kind, field)
    assert await refused(kind="Nope", field="body", requestedValue="x") == [("INVALID", "kind")]
    # The new value meets the rule the field always has.
    too_long = {**feedback, "rowId": mine["id"], "requestedValue": "x" * 5001}
    assert await refused(**too_long) == [("INVALID", "requestedValue")]
    blank = {**feedback, "rowId": mine["id"], "requestedValue": "   "}
    assert await refused(**blank) == [("INVALID", "requestedValue")]
    control = {**feedback, "rowId": mine["id"], "requestedValue": "a\x07b"}
    assert await refused(**control) == [("INVALID", "requestedValue")]
    one_line = {"kind": "SupportThread", "field": "subject", "requestedValue": "a\nb"}
    opened_thread = await thread(gql, alice.token)
    assert await refused(**one_line, rowId=opened_thread["id"]) == [("INVALID", "requestedValue")]
    assert await DataRequest.all().count() == 0
    # The only row of a kind needs no id.
    only = await correction_filed(
        gql, alice.token, kind="Favorite", field="note", requestedValue="for the winter"
    )
    assert only["asked"]["correction"]["rowId"] == str(pk(favorite_id))


def test_the_map_never_lets_hashes_ids_times_or_consent_records_be_corrected():
    for entry in DATA_MAP:
        for rule in entry.correctable:
            assert rule.field in entry.fields, (entry.kind, rule.field)
            assert not rule.field.endswith(("_hash", "_id", "_at")), (entry.kind, rule.field)
            assert rule.field not in ("hash", "seq", "id"), (entry.kind, rule.field)
            field = entry.model._meta.fields_map[rule.field]
            # Text, sealed or not; never JSON, whose shape a free-text correction would break.
            kind = type(field).__name__
            assert kind in ("CharField", "TextField", "SealedField"), (entry.kind, rule.field)
            assert getattr(field, "max_length", None) in (None, rule.limit), entry.kind
        if DataCategory.CONSENT_RECORDS in entry.categories or entry.model.__name__ == "Account":
            assert not entry.correctable and entry.erasure_refusal(), entry.kind
        if entry.erasable_on_request:
            assert entry.erasure_refusal() is None, entry.kind
            assert entry.account_field is not None, entry.kind


async def test_a_row_gone_meanwhile_leaves_the_request_open(gql):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    kept = await favorite(gql, alice.token, itemId="sku-1", note="for me")
    request = await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=kept["id"],
        requestedValue="a gift",
    )
    body = await gql(REMOVE_FAVORITE, {"id": kept["id"]}, token=alice.token)
    assert body["data"]["removeFavorite"]["errors"] == []
    gone = await decide(gql, staff.token, request["id"], "FULFIL", "as asked")
    assert codes(gone) == [("ROW_GONE", "id")]
    row = await DataRequest.get(id=pk(request["id"]))
    assert row.status == "VERIFIED" and row.decided_by_id is None
    assert (await opened(gql, staff.token, request["id"]))["asked"]["correction"][
        "currentValue"
    ] is None
    await decided(gql, staff.token, request["id"], "REJECT", "The favorite was removed.")


# --- erasure -----------------------------------------------------------------------------------


async def test_erasure_of_some_rows_removes_exactly_those(gql, client, settings):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    staff = await officer(gql)
    favorites = [(await favorite(gql, alice.token, itemId=f"a-{i}"))["id"] for i in range(3)]
    bob_favorite = (await favorite(gql, bob.token, itemId="b-1"))["id"]
    pictures = [(await uploaded(client, alice.token))["id"] for _ in range(3)]
    bob_picture = (await uploaded(client, bob.token))["id"]
    files = {p: await storage_file(settings, p) for p in [*pictures, bob_picture]}
    assert all(f.exists() for f in files.values())
    searches = await searched(gql, alice.token, "alice one", "alice two", "alice three")
    bob_searches = await searched(gql, bob.token, "bob one")

    # Objects by their global ids (their type names the kind), several kinds at once...
    by_ids = await erasure_filed(
        gql, alice.token, rowIds=[favorites[0], favorites[2], pictures[1]], note="old ones"
    )
    assert by_ids["kind"] == "ERASURE" and by_ids["status"] == "VERIFIED"
    assert sorted(by_ids["asked"]["erasures"], key=lambda e: e["kind"]) == [
        {"kind": "Favorite", "rowIds": [str(pk(favorites[0])), str(pk(favorites[2]))]},
        {"kind": "Picture", "rowIds": [key(pictures[1])]},
    ]
    # ...and rows without a GraphQL type by their row ids, with the kind.
    by_rows = await erasure_filed(gql, alice.token, kind="SearchRecord", rowIds=[str(searches[1])])
    assert await Favorite.filter(account_id=pk(alice.id)).count() == 3  # not before a decision

    await decided(gql, staff.token, by_ids["id"], "FULFIL")
    await decided(gql, staff.token, by_rows["id"], "FULFIL", "Erased as you asked.")

    left = await Favorite.filter(account_id=pk(alice.id)).values_list("id", flat=True)
    assert sorted(left) == [pk(favorites[1])]
    assert await Favorite.filter(id=pk(bob_favorite)).exists()
    kept_pictures = await Picture.filter(owner_id=pk(alice.id)).values_list("id", flat=True)
    assert sorted(str(p) for p in kept_pictures) == sorted([key(pictures[0]), key(pictures[2])])
    assert not files[pictures[1]].exists()
    assert all(files[p].exists() for p in (pictures[0], pictures[2], bob_picture))
    assert sorted(
        await SearchRecord.filter(account_id=pk(alice.id)).values_list("id", flat=True)
    ) == [
        searches[0],
        searches[2],
    ]
    assert await SearchRecord.filter(id__in=bob_searches).count() == 1


async def test_erasure_of_a_whole_kind_and_feedback_as_the_setting_says(gql, client, settings):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    staff = await officer(gql)
    await searched(gql, alice.token, "a1", "a2")
    await searched(gql, bob.token, "b1")
    picture = (await uploaded(client, alice.token))["id"]
    public = await submitted(
        gql, alice.token, visibility="PUBLIC", body="public words", pictureIds=[picture]
    )
    private = await submitted(gql, alice.token, visibility="PRIVATE", body="private words")
    spared = await submitted(gql, alice.token, visibility="PRIVATE", body="spared words")
    picture_file = await storage_file(settings, picture)

    every_search = await erasure_filed(gql, alice.token, kind="SearchRecord")
    assert every_search["asked"]["erasures"] == [{"kind": "SearchRecord", "rowIds": None}]
    some_feedback = await erasure_filed(gql, alice.token, rowIds=[public["id"], private["id"]])
    for request in (every_search, some_feedback):
        await decided(gql, staff.token, request["id"], "FULFIL")

    assert not await SearchRecord.filter(account_id=pk(alice.id)).exists()
    assert [r.keywords for r in await SearchRecord.all()] == ["b1"]  # bob's
    # As account deletion does (public_feedback_on_deletion=anonymize): PUBLIC feedback stays
    # as by "deleted user", without its pictures; PRIVATE feedback goes.
    assert settings.public_feedback_on_deletion == "anonymize"
    kept = await Feedback.get(id=pk(public["id"]))
    assert kept.author_id is None and kept.body == "public words"
    assert not await Feedback.filter(id=pk(private["id"])).exists()
    assert (await Feedback.get(id=pk(spared["id"]))).author_id == pk(alice.id)
    assert not await Picture.filter(id=key(picture)).exists() and not picture_file.exists()


async def test_an_erasure_names_erasable_kinds_and_ones_own_rows(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    theirs = (await favorite(gql, bob.token))["id"]
    mine = (await favorite(gql, alice.token))["id"]

    async def refused(**given) -> list[tuple[str, str | None]]:
        result = await request_erasure(gql, alice.token, **given)
        assert result["request"] is None
        return codes(result)

    assert await refused(rowIds=[theirs]) == [("NOT_FOUND", "rowIds")]
    assert await refused(rowIds=[mine, theirs]) == [("NOT_FOUND", "rowIds")]
    assert await refused(kind="Favorite", rowIds=[str(pk(theirs))]) == [("NOT_FOUND", "rowIds")]
    assert await refused(kind="Favorite", rowIds=[gid("Feedback", pk(mine))]) == [
        ("NOT_FOUND", "rowIds.0")
    ]
    assert await refused(kind="Feedback") == [("NOT_FOUND", "kind")]  # she wrote none
    assert await refused() == [("REQUIRED", "kind")]
    assert await refused(rowIds=[str(pk(mine))]) == [("REQUIRED", "kind")]
    assert await refused(kind="Nope") == [("INVALID", "kind")]
    assert await refused(kind="Favorite", rowIds=[str(pk(mine))] * 101) == [("INVALID", "rowIds")]
    for kind, why in (
        ("Account", "cancelAccount"),
        ("ConsentEvent", "withdraw"),
        ("DataRequest", "law"),
        ("StaffAuditEntry", "law"),
        ("Session", "own operations"),
        ("TotpCredential", "own operations"),
    ):
        result = await request_erasure(gql, alice.token, kind=kind)
        assert codes(result) == [("NOT_ERASABLE", "kind")], kind
        assert why in result["errors"][0]["message"], kind
    assert await DataRequest.all().count() == 0
    assert await Favorite.filter(id=pk(theirs)).exists()


# --- who decides, once ---------------------------------------------------------------------------


async def test_filing_needs_a_recent_sign_in(gql, clock, settings):
    moment = Moment(clock)
    alice = await register(gql, "alice")
    mine = (await favorite(gql, alice.token))["id"]
    moment.advance(settings.recent_auth_window + timedelta(seconds=1))
    for result in (
        await request_erasure(gql, alice.token, rowIds=[mine]),
        await request_correction(
            gql, alice.token, kind="Favorite", field="note", requestedValue="x"
        ),
    ):
        assert codes(result) == [("REAUTHENTICATION_REQUIRED", None)]
    wrong = await request_erasure(gql, alice.token, rowIds=[mine], password="not it at all")
    assert codes(wrong) == [("INVALID_CREDENTIALS", "password")]
    assert await DataRequest.all().count() == 0
    await erasure_filed(gql, alice.token, rowIds=[mine], password=PASSWORD)


async def test_only_privacy_officers_decide(gql):
    alice = await register(gql, "alice")
    request = await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=(await favorite(gql, alice.token))["id"],
        requestedValue="x",
    )
    for role in (None, Role.SUPPORT, Role.OPERATOR):
        someone = await register(gql, f"someone-{role}", role=role)
        assert codes(await decide(gql, someone.token, request["id"], "FULFIL", "ok")) == [
            ("FORBIDDEN", None)
        ]
        body = await gql(
            OPEN_REQUEST,
            {"id": request["id"], "reason": "curious"},
            token=someone.token,
            expect_errors=True,
        )
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert codes(await decide(gql, alice.token, request["id"], "FULFIL", "ok")) == [
        ("FORBIDDEN", None)
    ]
    assert codes(await decide(gql, None, request["id"], "FULFIL", "ok")) == [
        ("NOT_AUTHENTICATED", None)
    ]
    assert (await DataRequest.get(id=pk(request["id"]))).status == "VERIFIED"
    admin = await register(gql, "root", role=Role.ADMIN)  # holds every role
    await decided(gql, admin.token, request["id"], "FULFIL")


async def test_a_decided_request_is_not_decided_again(gql):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    fav = (await favorite(gql, alice.token))["id"]
    first = await correction_filed(
        gql, alice.token, kind="Favorite", field="note", rowId=fav, requestedValue="one"
    )
    second = await correction_filed(
        gql, alice.token, kind="Favorite", field="note", rowId=fav, requestedValue="two"
    )
    await decided(gql, staff.token, first["id"], "FULFIL")
    await decided(gql, staff.token, second["id"], "REJECT", "One correction is enough.")
    for request in (first, second):
        for decision in ("FULFIL", "REJECT"):
            again = await decide(gql, staff.token, request["id"], decision, "again")
            assert codes(again) == [("ALREADY_DECIDED", "id")], (request, decision)
    assert (await Favorite.get(id=pk(fav))).note == "one"
    assert await DataRequest.filter(status="COMPLETED").count() == 1
    unknown = await decide(gql, staff.token, gid("DataRequest", 424242), "FULFIL")
    assert codes(unknown) == [("NOT_FOUND", "id")]
    assert codes(await decide(gql, staff.token, "not an id", "FULFIL")) == [("NOT_FOUND", "id")]


async def test_exports_deletions_and_ones_own_requests_are_not_decided_here(gql, settings):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    access = await file_request(
        await Account.get(id=pk(alice.id)), DataRequestKind.ACCESS, settings, verified=True
    )
    cancelled = await gql(
        "mutation { cancelAccount(input: {}) { errors { code } } }", token=alice.token
    )
    assert cancelled["data"]["cancelAccount"]["errors"] == []
    deletion = await DataRequest.get(kind="ACCOUNT_DELETION")
    for row in (access, deletion):
        result = await decide(gql, staff.token, gid("DataRequest", row.id), "REJECT", "no")
        assert codes(result) == [("NOT_DECIDABLE", "id")]
    own = await correction_filed(
        gql,
        staff.token,
        kind="Favorite",
        field="note",
        rowId=(await favorite(gql, staff.token))["id"],
        requestedValue="mine",
    )
    assert codes(await decide(gql, staff.token, own["id"], "FULFIL")) == [("FORBIDDEN", "id")]


async def test_two_officers_deciding_at_once_decide_once(gql):
    alice = await register(gql, "alice")
    first, second = await officer(gql, "officer1"), await officer(gql, "officer2")
    fav = (await favorite(gql, alice.token))["id"]
    request = await correction_filed(
        gql, alice.token, kind="Favorite", field="note", rowId=fav, requestedValue="new"
    )
    results = await asyncio.gather(
        decide(gql, first.token, request["id"], "FULFIL", "first"),
        decide(gql, second.token, request["id"], "REJECT", "second"),
    )
    assert sorted(len(r["errors"]) for r in results) == [0, 1]
    [lost] = [r for r in results if r["errors"]]
    assert codes(lost) == [("ALREADY_DECIDED", "id")]
    [won] = [r for r in results if not r["errors"]]
    row = await DataRequest.get(id=pk(request["id"]))
    assert row.status == won["request"]["status"]
    assert (await Favorite.get(id=pk(fav))).note == ("new" if row.status == "COMPLETED" else "")


async def test_an_officer_decides_from_a_recent_sign_in(gql, clock, settings):
    moment = Moment(clock)
    alice = await register(gql, "alice")
    staff = await officer(gql)
    request = await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=(await favorite(gql, alice.token))["id"],
        requestedValue="x",
    )
    moment.advance(settings.recent_auth_window + timedelta(seconds=1))
    stale = await decide(gql, staff.token, request["id"], "FULFIL")
    assert codes(stale) == [("REAUTHENTICATION_REQUIRED", None)]
    body = await gql(
        OPEN_REQUEST, {"id": request["id"], "reason": "r"}, token=staff.token, expect_errors=True
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["REAUTHENTICATION_REQUIRED"]
    assert (await DataRequest.get(id=pk(request["id"]))).status == "VERIFIED"


async def test_officers_decide_with_a_second_factor_when_the_setting_is_on(app_with, clock):
    moment = Moment(clock)
    async with app_with(staff_second_factor=True) as http:
        gql = GraphQL(http)
        alice = await register(gql, "alice")
        staff = await officer(gql)
        request = await correction_filed(
            gql,
            alice.token,
            kind="Favorite",
            field="note",
            rowId=(await favorite(gql, alice.token))["id"],
            requestedValue="x",
        )
        refused = await decide(gql, staff.token, request["id"], "FULFIL")
        assert codes(refused) == [("SECOND_FACTOR_REQUIRED", None)]
        for query, variables in (
            (OPEN_REQUEST, {"id": request["id"], "reason": "r"}),
            (AUDIT_LOG, {}),
        ):
            body = await gql(query, variables, token=staff.token, expect_errors=True)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["SECOND_FACTOR_REQUIRED"]
        await enroll(gql, staff.token, moment)  # this session is now multi-factor
        await decided(gql, staff.token, request["id"], "FULFIL")
