"""Sealed fields: an account's personal columns hold only ciphertext under its own key, are
found by blind indexes, fail loudly when changed on disk, and a database from before sealing
is sealed by ``accord migrate``."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections

from models.accounts.account import Account, Gender, account_name_index
from models.accounts.bindings import PROVIDER_SUBJECT_INDEX, Binding
from models.keys import data_keys, key_ring, sealed_fields
from models.keys.backfill import seal_plain_values
from models.keys.blind_indexes import blind_index
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import PREFIX, SealedModel, SealedQuerySet
from tests.accounts_api import login, register
from tests.contact_helpers import add_and_verify_email, add_email

ME = "{ viewer { accountName nickname signature email gender region } }"
PERSONAL = ("account_name", "nickname", "avatar_url", "gender", "region", "signature", "email")


async def _raw(account_id: int) -> dict[str, Any]:
    rows = await connections.get("default").execute_query_dict(
        f"SELECT * FROM account WHERE id = {int(account_id)}"
    )
    return dict(rows[0])


async def _write(account_id: int, **values: Any) -> None:
    """Change the row behind the service's back, as someone with the database file could."""
    db = connections.get("default")
    for column, value in values.items():
        text = "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"
        await db.execute_script(
            f'UPDATE account SET "{column}" = {text} WHERE id = {int(account_id)}'
        )


async def _registered(gql: Any, name: str, email: str) -> tuple[int, str]:
    payload = await register(
        gql,
        name,
        nickname=f"{name} nick",
        signature=f"{name} signature",
        avatarUrl=f"https://cdn.example.com/{name}.png",
        gender="FEMALE",
        region="FR",
    )
    await add_and_verify_email(gql, payload["token"], email)
    account = await Account.get(account_name_index=await account_name_index(name))
    return account.id, payload["token"]


async def test_an_accounts_columns_hold_only_ciphertext_and_blind_indexes(gql):
    account_id, token = await _registered(gql, "alice.sealed", "alice.sealed@example.org")
    raw = await _raw(account_id)
    for column in PERSONAL:
        assert raw[column].startswith(PREFIX), column
        assert "alice" not in raw[column], column
    indexes = [raw["account_name_index"], raw["email_index"]]
    assert all(len(index) == 32 and "alice" not in index for index in indexes)
    assert raw["account_name_index"] != raw["email_index"]
    me = (await gql(ME, token=token))["data"]["viewer"]
    assert (me["accountName"], me["nickname"], me["email"], me["gender"], me["region"]) == (
        "alice.sealed",
        "alice.sealed nick",
        "alice.sealed@example.org",
        "FEMALE",
        "FR",
    )
    assert (await login(gql, "alice.sealed"))["errors"] == []
    # The same value sealed again (a save) differs: a fresh nonce, so equal columns
    # reveal nothing.
    account = await Account.get(id=account_id)
    await account.save(update_fields=["signature"])
    assert (await _raw(account_id))["signature"] != raw["signature"]


async def test_a_value_changed_on_disk_is_a_clear_error_never_another_value(gql):
    alice_id, alice = await _registered(gql, "alice.tamper", "alice.tamper@example.org")
    bob_id, _ = await _registered(gql, "bob.tamper", "bob.tamper@example.org")
    alice_raw, bob_raw = await _raw(alice_id), await _raw(bob_id)
    flipped = alice_raw["nickname"][:-3] + ("A" if alice_raw["nickname"][-3] != "A" else "B")
    tampered = [
        {"nickname": flipped + alice_raw["nickname"][-2:]},  # a changed byte
        {"nickname": alice_raw["signature"]},  # moved to another column
        {"nickname": bob_raw["nickname"]},  # another account's, authentic for its owner
    ]
    for change in tampered:
        await _write(alice_id, **change)
        body = await gql("{ viewer { accountName nickname } }", token=alice, expect_errors=True)
        assert body["data"] is None or body["data"]["viewer"] is None, body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "DATA_UNREADABLE", error
        assert "integrity" in error["message"]
        assert "bob" not in str(body) and "alice" not in str(body)
    await _write(alice_id, nickname=alice_raw["nickname"])
    me = (await gql(ME, token=alice))["data"]["viewer"]
    assert me["nickname"] == "alice.tamper nick"


async def test_values_stored_in_the_clear_are_sealed_by_migrate(gql):
    account_id, _ = await _registered(gql, "carol.legacy", "carol.legacy@example.org")
    # As an Accord from before sealed fields left the row: plain text, no blind indexes.
    await _write(
        account_id,
        account_name="carol.legacy",
        nickname="Carol of old",
        signature="plain signature",
        email="carol.legacy@example.org",
        gender="OTHER",
        region="DE",
        account_name_index=None,
        email_index=None,
    )
    binding = await Binding.create(account_id=account_id, provider="dev", subject="carol-sub")
    await connections.get("default").execute_script(
        "UPDATE binding SET subject = 'carol-sub', subject_index = NULL "
        f"WHERE id = {int(binding.id)}"
    )
    assert (await login(gql, "carol.legacy"))["errors"] != []  # not found by its index yet
    assert await seal_plain_values() == 2  # the account and its binding
    raw = await _raw(account_id)
    assert all(raw[c].startswith(PREFIX) for c in PERSONAL)
    assert raw["account_name_index"] and raw["email_index"]
    signed_in = await login(gql, "carol.legacy")
    assert signed_in["errors"] == []
    me = (await gql(ME, token=signed_in["token"]))["data"]["viewer"]
    assert (me["nickname"], me["signature"], me["gender"], me["region"]) == (
        "Carol of old",
        "plain signature",
        "OTHER",
        "DE",
    )
    [bound] = await connections.get("default").execute_query_dict(
        f"SELECT subject, subject_index FROM binding WHERE id = {int(binding.id)}"
    )
    assert bound["subject"].startswith(PREFIX)
    assert bound["subject_index"] == await blind_index(PROVIDER_SUBJECT_INDEX, "carol-sub")
    assert (await Binding.get(id=binding.id)).subject == "carol-sub"
    assert await seal_plain_values() == 0  # nothing left: a second run changes nothing


def test_every_model_loaded_with_a_sealed_row_opens_it(app):
    """A query of a model that can ``select_related`` a sealed model must open what it
    loads (its manager is a SealedManager), or a resolver would see sealed text."""
    unopened = []
    for model in Tortoise.apps.get_models_iterable():
        for name in model._meta.fk_fields | model._meta.o2o_fields:
            related = model._meta.fields_map[name].related_model
            manager_query = model._meta.manager.get_queryset()
            if issubclass(related, SealedModel) and not isinstance(manager_query, SealedQuerySet):
                unopened.append(f"{model.__name__}.{name}")
    assert unopened == []
    assert isinstance(Account._meta.manager.get_queryset(), SealedQuerySet)


async def test_a_pending_address_and_an_authenticator_secret_are_sealed(gql):
    payload = await register(gql, "dana.pending")
    token = payload["token"]
    added = await add_email(gql, token, "Dana.Pending@Example.org")
    assert added["errors"] == [] and added["verification"]["address"]
    enrolled = (await gql("mutation { enrollTotp { secret errors { code } } }", token=token))[
        "data"
    ]["enrollTotp"]
    assert enrolled["errors"] == []
    db = connections.get("default")
    [pending] = await db.execute_query_dict("SELECT address, address_key FROM contact_verification")
    assert pending["address"].startswith(PREFIX) and "dana" not in pending["address_key"].lower()
    [totp] = await db.execute_query_dict("SELECT secret FROM totp_credential")
    assert totp["secret"].startswith(PREFIX) and enrolled["secret"] not in totp["secret"]
    # The same address again is recognised by its blind index: no second code is sent.
    again = await add_email(gql, token, "dana.pending@example.org")
    assert [e["code"] for e in again["errors"]] in ([], ["RATE_LIMITED"])
    rows = await db.execute_query_dict("SELECT address_key FROM contact_verification")
    assert {r["address_key"] for r in rows} == {pending["address_key"]}


async def test_an_opened_value_is_kept_no_longer_than_its_key(gql, settings, monkeypatch):
    """A value read again opens from memory, but only while its key is kept: once the key
    is read again from the key store (``ACCORD_DATA_KEY_CACHE_SECONDS``), a key another
    process destroyed takes what it opened with it."""
    account_id, _ = await _registered(gql, "dora.cache", "dora.cache@example.org")
    account = await Account.get(id=account_id)
    assert (account.nickname, account.gender, account.region) == (
        "dora.cache nick",
        Gender.FEMALE,
        "FR",
    )
    # Another process destroys the key: this one keeps it, and what it opened, a while.
    monkeypatch.setattr(key_ring, "forget", lambda: None)
    await data_keys.destroy(settings, account_subject(account_id))
    assert (await Account.get(id=account_id)).nickname == "dora.cache nick"
    ttl = key_ring.installed().data_key_cache_seconds
    for ref, (read_at, key) in list(sealed_fields._by_ref.items()):
        sealed_fields._by_ref[ref] = (read_at - ttl - 1, key)  # the keys' time is up
    gone = await Account.get(id=account_id)
    assert (gone.nickname, gone.gender, gone.region, gone.email) == (
        "",
        Gender.UNDISCLOSED,
        None,
        None,
    )
