"""A device that registers or signs in brings its anonymous consent history to the account."""

from __future__ import annotations

from models.accounts.account import Account, account_name_index
from models.consent.ledger import ConsentEvent, verify_chain
from tests.consent_helpers import officer, publish
from tests.device_ids import device_id
from tests.ids import pk

DEVICE = device_id("phone-install-7f3a9c")
PASSWORD = "correct horse battery staple"


async def _anonymous_grant(gql, purpose: str, granted: bool) -> None:
    body = await gql(
        """mutation($i: SetConsentsInput!) { setConsents(input: $i) { errors { code } } }""",
        {
            "i": {
                "policyVersion": "v1",
                "deviceId": DEVICE,
                "source": "ANDROID",
                "decisions": [{"purpose": purpose, "granted": granted}],
            }
        },
    )
    assert body["data"]["setConsents"]["errors"] == []


async def test_register_with_a_device_takes_its_history(gql):
    staff = await officer(gql)
    await publish(gql, staff.token, "v1")
    await _anonymous_grant(gql, "analytics", True)
    registered = await gql(
        """mutation($i: RegisterInput!) { register(input: $i) { token account { id } errors { code } } }""",
        {
            "i": {
                "accountName": "dana.device",
                "password": PASSWORD,
                "nickname": "Dana",
                "deviceId": DEVICE,
            }
        },
    )
    payload = registered["data"]["register"]
    assert payload["errors"] == []
    viewer = await gql(
        """{ viewer { consents { purpose { code } granted } consentHistory(first: 10) {
        edges { node { kind deviceId } } } } }""",
        token=payload["token"],
    )
    consents = {c["purpose"]["code"]: c["granted"] for c in viewer["data"]["viewer"]["consents"]}
    assert consents["analytics"] is True
    kinds = [e["node"]["kind"] for e in viewer["data"]["viewer"]["consentHistory"]["edges"]]
    assert kinds == ["DEVICE_LINKED", "GRANTED"]
    account_id = pk(payload["account"]["id"])
    assert (await verify_chain(f"account:{account_id}")).ok
    assert (await verify_chain(f"device:{DEVICE}")).ok
    # From now on the device speaks only through the account.
    anonymous = await gql(
        """mutation($i: SetConsentsInput!) { setConsents(input: $i) { errors { code field } } }""",
        {
            "i": {
                "policyVersion": "v1",
                "deviceId": DEVICE,
                "decisions": [{"purpose": "analytics", "granted": False}],
            }
        },
    )
    assert anonymous["data"]["setConsents"]["errors"] == [
        {"code": "FORBIDDEN", "field": "deviceId"}
    ]


async def test_login_links_once_and_a_bad_device_id_writes_nothing(gql):
    staff = await officer(gql)
    await publish(gql, staff.token, "v1")
    await gql(
        """mutation { register(input: {accountName: "eli.device", password: "correct horse battery staple",
        nickname: "Eli"}) { errors { code } } }"""
    )
    await _anonymous_grant(gql, "advertising", True)
    login = """mutation($i: LoginInput!) { login(input: $i) { token errors { code field } } }"""
    for _ in range(2):
        body = await gql(
            login, {"i": {"accountName": "eli.device", "password": PASSWORD, "deviceId": DEVICE}}
        )
        assert body["data"]["login"]["errors"] == []
    account = await Account.get(account_name_index=await account_name_index("eli.device"))
    links = await ConsentEvent.filter(subject=f"account:{account.id}", kind="DEVICE_LINKED")
    assert len(links) == 1
    bad = await gql(
        """mutation($i: RegisterInput!) { register(input: $i) { token errors { code field } } }""",
        {
            "i": {
                "accountName": "fay.device",
                "password": PASSWORD,
                "nickname": "Fay",
                "deviceId": "no spaces allowed",
            }
        },
    )
    assert bad["data"]["register"]["errors"] == [{"code": "INVALID", "field": "deviceId"}]
    assert not await Account.filter(
        account_name_index=await account_name_index("fay.device")
    ).exists()
