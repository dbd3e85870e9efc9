"""Campaigns end to end (issue 7): a material policy change, security incidents and a service
shutdown, published through the API, fanned out and delivered by a real arq worker, e-mail
received by the local SMTP server and SMS by a local HTTP gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.accounts.account import Account, AccountStatus, Role
from models.notifications.campaigns import Campaign, CampaignStatus, SecurityIncident
from models.notifications.inbox import DeliveryStatus, Notification
from tests.conftest import GraphQL
from tests.consent_helpers import publish, published
from tests.ids import gid, pk
from tests.notification_helpers import (
    ANNOUNCEMENTS,
    CAMPAIGN,
    INBOX,
    body_of,
    cancel,
    incident_input,
    mail_count_by_recipient,
    mail_since,
    person,
    recipients,
    report_incident,
    rows_by_account,
    run_worker,
    sms_gateway,
)
from tests.test_deletion import make_due

SUMMARY = "We now share delivery addresses with our new courier, Rapide SA."


async def _inbox(gql, token: str) -> list[dict]:
    body = await gql(INBOX, {"first": 50, "after": None, "unread": False}, token=token)
    return [e["node"] for e in body["data"]["viewer"]["notifications"]["edges"]]


async def _campaign(gql, token: str, campaign_id: int | str) -> dict:
    return (await gql(CAMPAIGN, {"id": str(campaign_id)}, token=token))["data"]["campaign"]


async def test_a_material_policy_reaches_every_active_account_once_per_channel(
    gql, settings, redis_url, mailbox
):
    # The accounts that must get nothing sit between the others (ids in the middle of the
    # campaign's id range, not past its end).
    officer = await person(gql, "officer.pol", role=Role.PRIVACY_OFFICER)
    dave = await person(gql, "dave.pol")  # cancels: pending deletion
    alice = await person(gql, "alice.pol")
    erin = await person(gql, "erin.pol")  # cancelled and deleted by the worker
    bob = await person(gql, "bob.pol", phone=True)
    carol = await person(gql, "carol.pol", email=False)  # no e-mail: in-app only
    await cancel(gql, dave)
    await cancel(gql, erin)
    await make_due(pk(erin.id))
    await run_worker(settings, redis_url, sweep_first=True)  # the deletion job
    assert (await Account.get(id=pk(erin.id))).status == AccountStatus.DELETED
    assert (await Account.get(id=pk(dave.id))).status == AccountStatus.PENDING_DELETION
    # Their e-mail address is still known for a pending deletion: only the status stops it.
    assert (await Account.get(id=pk(dave.id))).email == dave.email

    start = len(mailbox.received)
    policy = await published(
        gql,
        officer.token,
        "v2",
        material=True,
        categories=["SHARING_RECIPIENTS"],
        summary=SUMMARY,
        effective_at=datetime(2031, 5, 1, 12, 0, tzinfo=UTC),
    )
    assert policy["material"] is True
    campaign = await Campaign.get()
    assert campaign.total == 4  # the active accounts when it was published
    assert (await _campaign(gql, officer.token, campaign.id))["status"] == "FANNING_OUT"

    worker = await run_worker(settings, redis_url)
    assert worker.jobs_failed == 0

    active = {pk(p.id): p for p in (officer, alice, bob, carol)}
    rows = await rows_by_account(campaign.id)
    assert set(rows) == set(active), "every active account, and no other"
    for account_id, who in active.items():
        expected = {"IN_APP": 1, "EMAIL": 1} if who.email else {"IN_APP": 1}
        assert dict(rows[account_id]) == expected, who.name
    assert (
        await Notification.filter(campaign_id=campaign.id, status__not=DeliveryStatus.SENT).count()
        == 0
    )

    mail = mail_since(mailbox, start)
    assert mail_count_by_recipient(mail) == {who.email: 1 for who in active.values() if who.email}
    for message in mail:
        assert message["Subject"] == "Our privacy policy is changing (version v2)"
        text = body_of(message)
        assert SUMMARY in text and "2031-05-01 12:00 UTC" in text
        assert "SHARING_RECIPIENTS" in text
        assert dave.email not in recipients(message)

    # The in-app copy says the same; the pending and deleted accounts have nothing.
    [note] = await _inbox(gql, alice.token)
    assert note["kind"] == "POLICY_CHANGE" and note["title"].endswith("(version v2)")
    assert SUMMARY in note["body"]
    assert await Notification.filter(account_id=pk(dave.id), campaign_id=campaign.id).count() == 0
    assert await Notification.filter(account_id=pk(erin.id), campaign_id=campaign.id).count() == 0

    view = await _campaign(gql, officer.token, campaign.id)
    assert view == {
        "id": gid("Campaign", campaign.id),
        "kind": "POLICY_CHANGE",
        "channels": ["EMAIL", "IN_APP"],
        "status": "DONE",
        "total": 4,
        "created": 7,
        "delivered": 7,
        "failed": 0,
        "progress": 1.0,
    }

    # Running everything again (a sweep and a worker) sends nothing twice.
    await run_worker(settings, redis_url, sweep_first=True)
    assert len(mailbox.received) == start + len(mail)
    assert sum(sum(c.values()) for c in (await rows_by_account(campaign.id)).values()) == 7


async def test_a_non_material_version_is_only_a_banner(gql, settings, redis_url, mailbox):
    officer = await person(gql, "officer.minor", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.minor")
    start = len(mailbox.received)
    await published(gql, officer.token, "v1.1", summary="Typo fixes in section 4.")
    assert await Campaign.all().count() == 0
    body = await gql(ANNOUNCEMENTS)  # no sign-in
    [banner] = body["data"]["announcements"]
    assert banner["kind"] == "POLICY_CHANGE"
    assert banner["title"] == "Privacy policy v1.1"
    assert banner["body"] == "Typo fixes in section 4."
    await run_worker(settings, redis_url, sweep_first=True)
    assert await Notification.filter(campaign_id__isnull=False).count() == 0  # no campaign
    assert await _inbox(gql, alice.token) == []
    assert len(mailbox.received) == start


async def test_an_incident_reaches_only_the_listed_accounts_on_every_channel(
    app_with, settings, redis_url, mailbox
):
    async with sms_gateway() as gateway, app_with(sms_gateway_url=gateway.url) as http:
        gql = GraphQL(http)
        officer = await person(gql, "officer.inc", role=Role.PRIVACY_OFFICER)
        alice = await person(gql, "alice.inc", phone=True)
        dave = await person(gql, "dave.inc", phone=True)  # not affected (between the others)
        bob = await person(gql, "bob.inc")  # no phone: SMS falls back to in-app
        carol = await person(gql, "carol.inc", email=False, phone=True)
        start = len(mailbox.received)
        given = incident_input(
            affectedAccountIds=[alice.id, bob.id, carol.id], channels=["IN_APP", "EMAIL", "SMS"]
        )
        result = await report_incident(gql, officer.token, **given)
        assert result["errors"] == []
        incident, campaign = result["incident"], result["campaign"]
        assert incident["impact"] == given["impact"]
        assert incident["remedies"] == given["remedies"]
        assert campaign["kind"] == "SECURITY_INCIDENT" and campaign["total"] == 3
        assert campaign["channels"] == ["EMAIL", "IN_APP", "SMS"]
        assert campaign["status"] == "FANNING_OUT"
        # A few listed accounts, below the threshold: no public announcement.
        assert (await gql(ANNOUNCEMENTS))["data"]["announcements"] == []

        worker = await run_worker(settings, redis_url, sms_gateway_url=gateway.url)
        assert worker.jobs_failed == 0

        rows = await rows_by_account(pk(campaign["id"]))
        assert {k: dict(v) for k, v in rows.items()} == {
            pk(alice.id): {"IN_APP": 1, "EMAIL": 1, "SMS": 1},
            pk(bob.id): {"IN_APP": 1, "EMAIL": 1},
            pk(carol.id): {"IN_APP": 1, "SMS": 1},
        }
        mail = mail_since(mailbox, start)
        assert mail_count_by_recipient(mail) == {alice.email: 1, bob.email: 1}
        for message in mail:
            assert message["Subject"] == f"Security incident: {given['title']}"
            text = body_of(message)
            for required in ("impact", "measuresTaken", "adviceToUsers", "remedies"):
                assert given[required] in text, required
        assert sorted(m["to"] for m in gateway.received) == sorted([alice.phone, carol.phone])
        for sms in gateway.received:
            assert given["impact"] in sms["body"] and given["remedies"] in sms["body"]
        assert gateway.to(dave.phone) == []

        for who in (alice, bob, carol):
            [note] = await _inbox(gql, who.token)
            assert note["kind"] == "SECURITY_INCIDENT"
            assert given["adviceToUsers"] in note["body"]
        assert await _inbox(gql, dave.token) == []
        assert await _inbox(gql, officer.token) == []
        view = await _campaign(gql, officer.token, campaign["id"])
        assert view["status"] == "DONE"
        assert (view["created"], view["delivered"], view["failed"]) == (7, 7, 0)


async def test_an_unknown_or_unusable_channel_falls_back_to_in_app(
    app_with, settings, redis_url, mailbox
):
    async with sms_gateway() as gateway, app_with(sms_gateway_url=gateway.url) as http:
        gql = GraphQL(http)
        officer = await person(gql, "officer.fb", role=Role.PRIVACY_OFFICER)
        alice = await person(gql, "alice.fb", phone=True)  # reachable both ways
        bob = await person(gql, "bob.fb")  # no phone
        carol = await person(gql, "carol.fb", email=False)  # neither
        everyone = [alice.id, bob.id, carol.id]
        result = await report_incident(
            gql,
            officer.token,
            affectedAccountIds=everyone,
            channels=["EMAIL", "SMS"],
            title="No inbox asked",
        )
        assert result["errors"] == []
        await run_worker(settings, redis_url, sms_gateway_url=gateway.url)
        rows = await rows_by_account(pk(result["campaign"]["id"]))
        assert {k: dict(v) for k, v in rows.items()} == {
            pk(alice.id): {"EMAIL": 1, "SMS": 1},
            pk(bob.id): {"EMAIL": 1, "IN_APP": 1},
            pk(carol.id): {"IN_APP": 1},
        }
        assert [m["to"] for m in gateway.received] == [alice.phone]
        [note] = await _inbox(gql, carol.token)
        assert note["title"] == "Security incident: No inbox asked"

        # A worker without an SMS gateway: SMS is unusable, so in-app stands in for it.
        again = await report_incident(
            gql, officer.token, affectedAccountIds=everyone, channels=["SMS"], title="No gateway"
        )
        await run_worker(settings, redis_url)
        rows = await rows_by_account(pk(again["campaign"]["id"]))
        assert {k: dict(v) for k, v in rows.items()} == {
            pk(alice.id): {"IN_APP": 1},
            pk(bob.id): {"IN_APP": 1},
            pk(carol.id): {"IN_APP": 1},
        }
        assert len(gateway.received) == 1


async def test_an_incident_for_all_accounts_is_also_announced(gql, settings, redis_url, mailbox):
    officer = await person(gql, "officer.all", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.all")
    bob = await person(gql, "bob.all", email=False)
    gone = await person(gql, "gone.all")
    await cancel(gql, gone)
    given = incident_input(allAccounts=True, channels=["IN_APP", "EMAIL"])
    result = await report_incident(gql, officer.token, **given)
    assert result["errors"] == [] and result["campaign"]["total"] == 3

    [notice] = (await gql(ANNOUNCEMENTS))["data"]["announcements"]  # no sign-in
    assert notice["kind"] == "SECURITY_INCIDENT" and notice["title"] == given["title"]
    for required in ("impact", "measuresTaken", "adviceToUsers", "remedies"):
        assert given[required] in notice["body"], required

    start = len(mailbox.received)
    await run_worker(settings, redis_url)
    rows = await rows_by_account(pk(result["campaign"]["id"]))
    assert {k: dict(v) for k, v in rows.items()} == {
        pk(officer.id): {"IN_APP": 1, "EMAIL": 1},
        pk(alice.id): {"IN_APP": 1, "EMAIL": 1},
        pk(bob.id): {"IN_APP": 1},
    }
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {officer.email: 1, alice.email: 1}


async def test_a_listed_incident_above_the_threshold_is_announced(app_with):
    async with app_with(announcement_threshold=1) as http:
        gql = GraphQL(http)
        officer = await person(gql, "officer.thr", role=Role.PRIVACY_OFFICER)
        alice = await person(gql, "alice.thr")
        bob = await person(gql, "bob.thr")
        one = await report_incident(
            gql, officer.token, affectedAccountIds=[alice.id], title="Only one"
        )
        assert one["errors"] == []
        assert (await gql(ANNOUNCEMENTS))["data"]["announcements"] == []
        two = await report_incident(
            gql, officer.token, affectedAccountIds=[alice.id, bob.id], title="Two of them"
        )
        assert two["errors"] == []
        [notice] = (await gql(ANNOUNCEMENTS))["data"]["announcements"]
        assert notice["title"] == "Two of them"


async def test_incident_validation_and_roles(gql):
    officer = await person(gql, "officer.val", role=Role.PRIVACY_OFFICER)
    operator = await person(gql, "operator.val", role=Role.OPERATOR)
    user = await person(gql, "user.val")
    cases = [
        ({"allAccounts": True, "affectedAccountIds": [user.id]}, "REQUIRED", "affectedAccountIds"),
        ({}, "REQUIRED", "affectedAccountIds"),
        ({"affectedAccountIds": []}, "REQUIRED", "affectedAccountIds"),
        ({"affectedAccountIds": [user.id, "987654"]}, "NOT_FOUND", "affectedAccountIds"),
        ({"affectedAccountIds": ["not-an-id"]}, "NOT_FOUND", "affectedAccountIds"),
        ({"affectedAccountIds": ["²"]}, "NOT_FOUND", "affectedAccountIds"),
        ({"affectedAccountIds": ["99999999999999999999999"]}, "NOT_FOUND", "affectedAccountIds"),
        ({"allAccounts": True, "impact": "  "}, "INVALID", "impact"),
        ({"allAccounts": True, "remedies": "x" * 5001}, "INVALID", "remedies"),
        ({"allAccounts": True, "channels": []}, "REQUIRED", "channels"),
    ]
    for given, code, field in cases:
        result = await report_incident(gql, officer.token, **given)
        assert result["errors"] == [{"code": code, "field": field}], given
        assert result["incident"] is None and result["campaign"] is None
    for token, code in (
        (user.token, "FORBIDDEN"),
        (operator.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        result = await report_incident(gql, token, allAccounts=True)
        assert [e["code"] for e in result["errors"]] == [code]
        assert result["campaign"] is None
    assert await SecurityIncident.all().count() == 0
    assert await Campaign.all().count() == 0
    assert (await gql(ANNOUNCEMENTS))["data"]["announcements"] == []
    # A plain user cannot publish a material policy (and start a campaign) either.
    refused = await publish(gql, user.token, "v9", material=True, categories=["OTHER"])
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert await Campaign.all().count() == 0


SHUTDOWN = """
mutation($i: AnnounceServiceShutdownInput!) {
  announceServiceShutdown(input: $i) { campaign { id kind total } errors { code field } }
}
"""


async def test_a_service_shutdown_is_announced_and_sent_to_everyone(
    gql, settings, redis_url, mailbox
):
    officer = await person(gql, "officer.stop", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.stop")
    user_refused = await gql(
        SHUTDOWN,
        {"i": {"title": "t", "message": "m", "shutdownAt": "2032-01-01T00:00:00Z"}},
        token=alice.token,
    )
    assert [e["code"] for e in user_refused["data"]["announceServiceShutdown"]["errors"]] == [
        "FORBIDDEN"
    ]
    stop = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
    body = await gql(
        SHUTDOWN,
        {
            "i": {
                "title": "Accord Photos is closing",
                "message": "We are closing Accord Photos.",
                "shutdownAt": stop.isoformat(),
            }
        },
        token=officer.token,
    )
    result = body["data"]["announceServiceShutdown"]
    assert result["errors"] == [] and result["campaign"]["total"] == 2
    [notice] = (await gql(ANNOUNCEMENTS))["data"]["announcements"]
    assert notice["kind"] == "SERVICE_SHUTDOWN" and f"{stop:%Y-%m-%d}" in notice["body"]
    start = len(mailbox.received)
    await run_worker(settings, redis_url)
    mail = mail_since(mailbox, start)
    assert mail_count_by_recipient(mail) == {officer.email: 1, alice.email: 1}
    assert all(m["Subject"] == "Accord Photos is closing" for m in mail)
    assert all("We are closing Accord Photos." in body_of(m) for m in mail)
    campaign = await Campaign.get(id=pk(result["campaign"]["id"]))
    assert campaign.status == CampaignStatus.DONE
