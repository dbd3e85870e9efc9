"""Withdrawal means stop AND erase where the purpose was the only basis (issue 16; PIPL Art 47,
GDPR Art 17(1)(b)): withdrawing ``activity_log`` deletes the subject's search and click
records in the transaction that records the withdrawal, whatever path it comes by."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models.clock import now
from models.consent.ledger import verify_chain
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.consent_bound import BOUND_KINDS
from models.personal.favorites import Favorite
from tests.consent_helpers import consents, event, set_consents, sync
from tests.device_ids import device_id
from tests.ids import pk
from tests.personal_helpers import (
    ADD_FAVORITE,
    PASSWORD,
    RECORD_CLICK,
    RECORD_SEARCH,
    decide_activity_log,
    ensure_policy,
    register,
)

PHONE = device_id("withdraw-phone-01")
OTHER_PHONE = device_id("withdraw-phone-02")


async def search(gql, keywords: str, *, token=None, device=None) -> bool:
    given: dict[str, Any] = {"keywords": keywords}
    if device is not None:
        given["deviceId"] = device
    body = await gql(RECORD_SEARCH, {"input": given}, token=token)
    return body["data"]["recordSearch"]["recorded"]


async def click(gql, link: str, *, token=None, device=None) -> bool:
    given: dict[str, Any] = {"link": link}
    if device is not None:
        given["deviceId"] = device
    body = await gql(RECORD_CLICK, {"input": given}, token=token)
    return body["data"]["recordClick"]["recorded"]


async def kept() -> tuple[list[str], list[str]]:
    """Every search keyword and clicked link stored, sorted."""
    searches = sorted(r.keywords for r in await SearchRecord.all())
    clicks = sorted(r.link for r in await ClickRecord.all())
    return searches, clicks


async def grant_and_record(gql, name: str, *, token=None, device=None) -> None:
    await decide_activity_log(gql, True, token=token, device_id=device)
    assert await search(gql, f"{name} search", token=token, device=device)
    assert await click(gql, f"https://shop.example/{name}", token=token, device=device)


async def test_withdrawing_with_set_consents_erases_the_accounts_records_at_once(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await grant_and_record(gql, "alice", token=alice.token)
    assert await search(gql, "alice from phone", token=alice.token, device=PHONE)
    await grant_and_record(gql, "bob", token=bob.token)
    await grant_and_record(gql, "other-phone", device=OTHER_PHONE)
    # Data of other purposes and kinds: a favorite, and analytics consent.
    added = await gql(
        ADD_FAVORITE, {"input": {"itemType": "product", "itemId": "42"}}, token=alice.token
    )
    assert added["data"]["addFavorite"]["errors"] == []
    assert (await set_consents(gql, {"analytics": True}, token=alice.token))["errors"] == []

    assert (await set_consents(gql, {"activity_log": False}, token=alice.token))["errors"] == []

    assert await kept() == (
        ["bob search", "other-phone search"],
        ["https://shop.example/bob", "https://shop.example/other-phone"],
    )
    assert await Favorite.filter(account_id=pk(alice.id)).count() == 1
    state = await consents(gql, alice.token)
    assert (state["activity_log"]["granted"], state["analytics"]["granted"]) == (False, True)
    assert (await verify_chain(f"account:{pk(alice.id)}")).ok
    # Nothing is recorded while withdrawn, and granting again brings nothing back.
    assert not await search(gql, "after", token=alice.token)
    await decide_activity_log(gql, True, token=alice.token)
    assert await SearchRecord.filter(account_id=pk(alice.id)).count() == 0
    assert await ClickRecord.filter(account_id=pk(alice.id)).count() == 0
    assert await search(gql, "alice again", token=alice.token)
    assert [r.keywords for r in await SearchRecord.filter(account_id=pk(alice.id))] == [
        "alice again"
    ]


async def test_withdrawing_another_purpose_erases_nothing(gql):
    alice = await register(gql, "alice")
    await grant_and_record(gql, "alice", token=alice.token)
    await set_consents(gql, {"analytics": True}, token=alice.token)
    assert (await set_consents(gql, {"analytics": False}, token=alice.token))["errors"] == []
    assert await kept() == (["alice search"], ["https://shop.example/alice"])


async def test_an_anonymous_devices_withdrawal_erases_its_own_records_only(gql):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    # Alice signed in on the phone (no anonymous history then, so no link): her row rests on
    # her consent, not the phone's.
    assert await search(gql, "alice on phone", token=alice.token, device=PHONE)
    await grant_and_record(gql, "phone", device=PHONE)
    await grant_and_record(gql, "other-phone", device=OTHER_PHONE)

    await decide_activity_log(gql, False, device_id=PHONE)

    assert await kept() == (
        ["alice on phone", "other-phone search"],
        ["https://shop.example/other-phone"],
    )
    assert not await click(gql, "https://shop.example/late", device=PHONE)
    await decide_activity_log(gql, True, device_id=PHONE)
    assert await SearchRecord.filter(account_id=None, device_id=PHONE).count() == 0


async def test_a_withdrawal_in_an_offline_sync_batch_erases(gql):
    await ensure_policy()
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await grant_and_record(gql, "alice", token=alice.token)
    await grant_and_record(gql, "bob", token=bob.token)
    await grant_and_record(gql, "phone", device=PHONE)

    signed_in = await sync(
        gql, [event("activity_log", False)], device_id=OTHER_PHONE, token=alice.token
    )
    assert [r["status"] for r in signed_in["results"]] == ["ACCEPTED"]
    assert await kept() == (
        ["bob search", "phone search"],
        ["https://shop.example/bob", "https://shop.example/phone"],
    )
    anonymous = await sync(gql, [event("activity_log", False)], device_id=PHONE)
    assert [r["status"] for r in anonymous["results"]] == ["ACCEPTED"]
    assert await kept() == (["bob search"], ["https://shop.example/bob"])


async def test_a_superseded_withdrawal_erases_nothing(gql):
    """A phone with a slow clock syncs a withdrawal older than the grant that decides: the
    state stays GRANTED, and so do the records."""
    await ensure_policy()
    alice = await register(gql, "alice")
    await grant_and_record(gql, "alice", token=alice.token)
    late = event("activity_log", False, at=now() - timedelta(minutes=10))
    answer = await sync(gql, [late], device_id=PHONE, token=alice.token)
    assert [r["status"] for r in answer["results"]] == ["ACCEPTED"]
    assert (await consents(gql, alice.token))["activity_log"]["granted"] is True
    assert await kept() == (["alice search"], ["https://shop.example/alice"])


async def _register_on(gql, name: str, device: str) -> tuple[str, int]:
    body = await gql(
        """mutation($i: RegisterInput!) {
          register(input: $i) { token account { id } errors { code } } }""",
        {"i": {"accountName": name, "password": PASSWORD, "nickname": name, "deviceId": device}},
    )
    payload = body["data"]["register"]
    assert payload["errors"] == []
    return payload["token"], pk(payload["account"]["id"])


async def test_an_accounts_withdrawal_erases_its_linked_devices_anonymous_records(gql):
    await grant_and_record(gql, "phone", device=PHONE)
    await grant_and_record(gql, "other-phone", device=OTHER_PHONE)
    token, account_id = await _register_on(gql, "dana", PHONE)  # links the phone's history
    assert await kept() == (
        ["other-phone search", "phone search"],
        ["https://shop.example/other-phone", "https://shop.example/phone"],
    )
    assert await search(gql, "dana search", token=token, device=PHONE)

    assert (await set_consents(gql, {"activity_log": False}, token=token))["errors"] == []

    assert await kept() == (["other-phone search"], ["https://shop.example/other-phone"])
    assert (await verify_chain(f"account:{account_id}")).ok


async def test_linking_a_device_that_withdrew_later_ends_the_accounts_consent_and_erases(gql):
    """The latest decision by client time decides the account's state once a device is
    linked: a phone that withdrew after the account granted withdraws for the account."""
    token, account_id = await _register_on(gql, "erin", OTHER_PHONE)
    await grant_and_record(gql, "erin", token=token)
    await decide_activity_log(gql, True, device_id=PHONE)
    await decide_activity_log(gql, False, device_id=PHONE)
    login = await gql(
        """mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }""",
        {"i": {"accountName": "erin", "password": PASSWORD, "deviceId": PHONE}},
    )
    assert login["data"]["login"]["errors"] == []
    assert (await consents(gql, token))["activity_log"]["granted"] is False
    assert await kept() == ([], [])
    assert await SearchRecord.filter(account_id=account_id).count() == 0


async def test_every_bound_kind_is_found_by_account_and_device():
    """A kind declared bound to a purpose must be findable the way the erasure looks."""
    assert {k.model for k in BOUND_KINDS} == {SearchRecord, ClickRecord}
    for kind in BOUND_KINDS:
        names = kind.model._meta.fields_map
        assert {"account", "device_id", "recorded_at"} <= set(names), kind.name
        assert kind.purpose == "activity_log"


async def test_the_withdrawal_and_the_erasure_commit_together(gql, settings, monkeypatch):
    """If the erasure fails, the withdrawal is not recorded either (one transaction)."""
    from models.consent import decisions
    from models.consent.ledger import ConsentEvent, Source, account_subject
    from models.personal import consent_bound

    alice = await register(gql, "alice")
    await grant_and_record(gql, "alice", token=alice.token)
    subject = account_subject(pk(alice.id))
    events_before = await ConsentEvent.filter(subject=subject).count()

    async def erase_then_fail(subject: str, stored) -> dict[str, int]:
        await consent_bound.erase_on_withdrawal(subject, stored)
        raise RuntimeError("the erasure failed")

    monkeypatch.setattr(decisions, "erase_on_withdrawal", erase_then_fail)
    try:
        await decisions.set_consents(
            subject,
            settings,
            policy_version="v1",
            decisions=[("activity_log", False)],
            source=Source.WEB,
        )
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failing erasure was not called")
    assert await ConsentEvent.filter(subject=subject).count() == events_before
    assert await kept() == (["alice search"], ["https://shop.example/alice"])
    assert (await verify_chain(subject)).ok
