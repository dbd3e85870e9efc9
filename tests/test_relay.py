"""Relay object identification (issue 14): every type with identity implements ``Node``, its
``id`` is a global id, and ``node(id:)``/``nodes(ids:)`` answer only what the caller could
read through the type's normal field: a guessed id of someone else's object is ``null``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from graphql import GraphQLObjectType

from accord.settings import load_settings
from api.schema import build_schema
from models.accounts.account import Role
from models.accounts.bindings import Binding
from models.notifications.inbox import Channel, Notification, NotificationKind
from models.rights.requests import DataRequest
from tests.authenticator import SoftwareAuthenticator
from tests.consent_helpers import PASSWORD, User, officer, publish, register, set_consents
from tests.ids import gid, key, pk, type_of
from tests.passkeys_api import add_passkey
from tests.personal_helpers import favorite, submitted, thread, uploaded

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def node_types() -> set[str]:
    """Every type implementing Node, read from the schema itself."""
    schema = build_schema(load_settings())._schema
    return {
        t.name
        for t in schema.type_map.values()
        if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    }


@dataclass
class Case:
    """An object's global id (found through its normal field), who reads it, who must not."""

    id: str
    readers: list[str | None]
    strangers: list[str | None] = field(default_factory=list)


async def _world(gql, client) -> dict[str, list[Case]]:
    """One object of every Node type, owned by alice or kept for staff."""
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    admin = await register(gql, "root", role=Role.ADMIN)
    staff = await officer(gql)
    operator = await register(gql, "ops", role=Role.OPERATOR)
    support = await register(gql, "helper", role=Role.SUPPORT)
    other_support = await register(gql, "helper2", role=Role.SUPPORT)
    anyone: list[str | None] = [None, bob.token, alice.token]
    owner_only = [None, bob.token, staff.token, support.token]
    owner_or_admin = [alice.token, admin.token]
    office = [staff.token, operator.token]

    await publish(gql, staff.token, "v1", purposes=["analytics"])
    await set_consents(gql, {"analytics": True}, token=alice.token)
    fav = await favorite(gql, alice.token)
    private = await submitted(gql, alice.token, visibility="PRIVATE", subject="p")
    await submitted(gql, alice.token, visibility="PUBLIC", subject="p")
    picture = await uploaded(client, alice.token)
    opened = await thread(gql, alice.token, subject="help")
    queued = await thread(gql, alice.token, subject="queued")
    await Binding.create(account_id=pk(alice.id), provider="dev", subject="alice-sub")
    await Notification.create(
        account_id=pk(alice.id),
        kind=NotificationKind.POLICY_CHANGE,
        channel=Channel.IN_APP,
        title="t",
        body="b",
    )
    shutdown = await gql(
        """mutation($i: AnnounceServiceShutdownInput!) { announceServiceShutdown(input: $i) {
          campaign { id } shutdown { id } errors { code } } }""",
        {
            "i": {
                "title": "Bye",
                "message": "We stop",
                "shutdownAt": _later(),
                "scope": {"purposeCode": "analytics"},
                "channels": ["IN_APP"],
            }
        },
        token=staff.token,
    )
    campaign = shutdown["data"]["announceServiceShutdown"]["campaign"]["id"]
    scheduled = shutdown["data"]["announceServiceShutdown"]["shutdown"]["id"]
    incident = await gql(
        """mutation($i: ReportSecurityIncidentInput!) { reportSecurityIncident(input: $i) {
          incident { id } errors { code } } }""",
        {
            "i": {
                "title": "t",
                "impact": "i",
                "measuresTaken": "m",
                "adviceToUsers": "a",
                "remedies": "r",
                "affectedAccountIds": [alice.id],
                "channels": ["IN_APP"],
            }
        },
        token=staff.token,
    )
    questionnaire = await gql(
        """mutation { defineQuestionnaire(input: {title: "q", questions: [{id: "a", text: "A"}]})
          { questionnaire { id } errors { code } } }""",
        token=operator.token,
    )
    hook = await gql(
        """mutation { createConsentWebhook(input: {url: "https://processor.example.com/h",
          purposes: ["analytics"]}) { webhook { id } errors { code } } }""",
        token=staff.token,
    )
    hook_id = hook["data"]["createConsentWebhook"]["webhook"]["id"]
    await set_consents(gql, {"analytics": False}, token=alice.token)  # told to the processor
    deliveries = await gql(
        """query($w: ID!) { consentWebhookDeliveries(webhookId: $w, first: 5)
          { edges { node { id } } } }""",
        {"w": hook_id},
        token=staff.token,
    )
    [delivery] = deliveries["data"]["consentWebhookDeliveries"]["edges"]
    carol = await register(gql, "carol")
    await gql(
        "mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }",
        {"i": {"password": PASSWORD}},
        token=carol.token,
    )

    mine = (
        await gql(
            """{ viewer { id sessions { id } bindings { id } consentHistory { edges { node { id } } }
              notifications { edges { node { id } } }
              supportThreads { edges { node { id messages { id } } } } } }""",
            token=alice.token,
        )
    )["data"]["viewer"]
    worked = next(
        e["node"] for e in mine["supportThreads"]["edges"] if e["node"]["id"] == opened["id"]
    )
    await gql(
        "mutation($i: StaffReplyInput!) { staffReply(input: $i) { errors { code } } }",
        {"i": {"threadId": opened["id"], "message": "on it"}},
        token=support.token,
    )
    queue = (await gql("{ supportQueue { id } }", token=support.token))["data"]["supportQueue"]
    read = await gql(
        "query($id: ID!) { supportThread(id: $id) { id } }",
        {"id": opened["id"]},
        token=support.token,
    )
    assert read["data"]["supportThread"]["id"] == opened["id"]
    audited = (await gql("{ staffAuditLog { edges { node { id } } } }", token=staff.token))["data"][
        "staffAuditLog"
    ]["edges"][0]["node"]["id"]
    public_view = (await gql('{ publicFeedback(subject: "p") { edges { node { id } } } }'))["data"][
        "publicFeedback"
    ]["edges"][0]["node"]["id"]
    policy = (await gql("{ currentPolicy { id purposes { id } } }"))["data"]["currentPolicy"]
    announcement = (await gql("{ announcements { id } }"))["data"]["announcements"][0]["id"]
    pending = (await gql("{ deletionQueue { edges { node { id } } } }", token=operator.token))[
        "data"
    ]["deletionQueue"]["edges"][0]["node"]["id"]
    staff_only = [None, alice.token, bob.token, support.token]
    passkey = await add_passkey(gql, alice.token, SoftwareAuthenticator())

    return {
        "Account": [Case(mine["id"], [alice.token], [*owner_only, admin.token])],
        "Session": [Case(mine["sessions"][0]["id"], owner_or_admin, owner_only)],
        "Binding": [Case(mine["bindings"][0]["id"], owner_or_admin, owner_only)],
        "Passkey": [Case(passkey["id"], owner_or_admin, owner_only)],
        "ConsentEvent": [
            Case(
                mine["consentHistory"]["edges"][0]["node"]["id"],
                [alice.token, staff.token],
                [None, bob.token, support.token, operator.token],
            )
        ],
        "Notification": [
            Case(
                mine["notifications"]["edges"][0]["node"]["id"],
                [alice.token],
                [*owner_only, admin.token],
            )
        ],
        "Favorite": [Case(fav["id"], owner_or_admin, owner_only)],
        "Feedback": [Case(private["id"], owner_or_admin, owner_only)],
        "Picture": [Case(picture["id"], [alice.token], owner_only)],
        "PublicFeedback": [
            Case(public_view, anyone),
            # A private item has no public view, for anyone (its author included).
            Case(gid("PublicFeedback", pk(private["id"])), [], anyone),
        ],
        "SupportThread": [
            Case(
                worked["id"],
                [alice.token, admin.token, support.token],
                [None, bob.token, other_support.token, staff.token],
            )
        ],
        "SupportMessage": [
            Case(
                worked["messages"][0]["id"],
                [alice.token, support.token],
                [None, bob.token, other_support.token],
            )
        ],
        "SupportQueueItem": [
            Case(
                next(q["id"] for q in queue if pk(q["id"]) == pk(queued["id"])),
                [support.token, other_support.token],
                [None, alice.token, bob.token],
            )
        ],
        "Questionnaire": [
            Case(questionnaire["data"]["defineQuestionnaire"]["questionnaire"]["id"], anyone)
        ],
        "Purpose": [Case(policy["purposes"][0]["id"], anyone)],
        "PolicyVersion": [Case(policy["id"], anyone)],
        "Announcement": [Case(announcement, anyone)],
        "Campaign": [Case(campaign, office, staff_only)],
        # Streamed by campaignProgress; its key is its campaign's.
        "CampaignProgress": [Case(gid("CampaignProgress", pk(campaign)), office, staff_only)],
        "SecurityIncident": [
            Case(
                incident["data"]["reportSecurityIncident"]["incident"]["id"],
                [staff.token],
                [*staff_only, operator.token],
            )
        ],
        "PendingDeletion": [Case(pending, office, staff_only)],
        "ServiceShutdown": [Case(scheduled, office, staff_only)],
        "ConsentWebhook": [Case(hook_id, office, staff_only)],
        "WebhookDelivery": [Case(delivery["node"]["id"], office, staff_only)],
        "StaffAuditEntry": [
            Case(audited, [staff.token, admin.token], [*staff_only, operator.token])
        ],
        # Carol's own sessions ended when she cancelled: an ADMIN reads her list of rights.
        "DataRequest": [
            Case(
                gid("DataRequest", (await DataRequest.get(kind="ACCOUNT_DELETION")).id),
                [admin.token],
                [None, alice.token, bob.token, support.token, operator.token],
            )
        ],
    }


def _later() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).isoformat()


async def test_every_node_type_answers_node_only_to_who_reads_it_normally(gql, client):
    world = await _world(gql, client)
    # A new Node type must bring its case here, or this test fails.
    assert set(world) == node_types()
    for type_name, cases in world.items():
        for case in cases:
            assert type_of(case.id) == type_name
            for token in case.readers:
                body = await gql(NODE, {"id": case.id}, token=token)
                assert body["data"]["node"] == {"__typename": type_name, "id": case.id}, (
                    type_name,
                    token,
                )
            for token in case.strangers:
                body = await gql(NODE, {"id": case.id}, token=token)
                assert body["data"]["node"] is None, (type_name, token)
                # nodes() is the same rule, not a way around it.
                listed = await gql(NODES, {"ids": [case.id]}, token=token)
                assert listed["data"]["nodes"] == [None], (type_name, token)


async def test_a_guessed_id_answers_as_one_naming_nothing(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    fav = await favorite(gql, alice.token)
    guesses = [
        fav["id"],  # alice's: bob may not
        gid("Favorite", pk(fav["id"]) + 1000),  # nothing
        gid("Favorite", "x"),
        gid("NoSuchType", 1),
        gid("Query", 1),  # a type, but no Node
        "not base64 at all",
        key(fav["id"]),  # a raw key is no global id
        "",
    ]
    for guess in guesses:
        body = await gql(NODE, {"id": guess}, token=bob.token)
        assert body["data"]["node"] is None, guess
    listed = await gql(NODES, {"ids": guesses}, token=bob.token)
    assert listed["data"]["nodes"] == [None] * len(guesses)


async def test_nodes_answers_in_order_across_types(gql):
    alice = await register(gql, "alice")
    first = await favorite(gql, alice.token, itemId="a")
    second = await favorite(gql, alice.token, itemId="b")
    ids = [second["id"], alice.id, gid("Favorite", 0), first["id"]]
    body = await gql(NODES, {"ids": ids}, token=alice.token)
    assert body["data"]["nodes"] == [
        {"__typename": "Favorite", "id": second["id"]},
        {"__typename": "Account", "id": alice.id},
        None,
        {"__typename": "Favorite", "id": first["id"]},
    ]
    too_many = await gql(NODES, {"ids": [alice.id] * 101}, token=alice.token, expect_errors=True)
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID"


async def test_ids_are_global_and_opaque(gql):
    alice: User = await register(gql, "alice")
    fav = await favorite(gql, alice.token)
    # base64("Type:key"), as Relay expects; never the bare row number.
    assert (type_of(alice.id), type_of(fav["id"])) == ("Account", "Favorite")
    assert not alice.id.isdigit() and not fav["id"].isdigit()


async def test_inputs_take_global_ids_and_for_now_raw_keys(gql):
    alice = await register(gql, "alice")
    remove = "mutation($id: ID!) { removeFavorite(input: {id: $id}) { errors { code field } } }"
    by_global = await favorite(gql, alice.token, itemId="a")
    by_raw = await favorite(gql, alice.token, itemId="b")
    wrong_type = await favorite(gql, alice.token, itemId="c")

    body = await gql(remove, {"id": by_global["id"]}, token=alice.token)
    assert body["data"]["removeFavorite"]["errors"] == []
    body = await gql(remove, {"id": key(by_raw["id"])}, token=alice.token)  # transition
    assert body["data"]["removeFavorite"]["errors"] == []
    # Another type's global id with the same key names nothing.
    body = await gql(remove, {"id": gid("Feedback", pk(wrong_type["id"]))}, token=alice.token)
    assert body["data"]["removeFavorite"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    left = await gql("{ viewer { favorites { edges { node { id } } } } }", token=alice.token)
    assert [e["node"]["id"] for e in left["data"]["viewer"]["favorites"]["edges"]] == [
        wrong_type["id"]
    ]


@pytest.mark.parametrize("first", [0, 2])
async def test_every_connection_has_a_full_page_info(gql, first):
    alice = await register(gql, "alice")
    for i in range(3):
        await favorite(gql, alice.token, itemId=f"i{i}")
    query = """query($first: Int!, $after: String) { viewer { favorites(first: $first, after: $after) {
      edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
    page = (await gql(query, {"first": first}, token=alice.token))["data"]["viewer"]["favorites"]
    cursors = [e["cursor"] for e in page["edges"]]
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
    }


async def test_the_deletion_queue_pages_and_filters_by_status(gql):
    operator = await register(gql, "ops", role=Role.OPERATOR)
    people = [await register(gql, f"leaver{i}") for i in range(3)]
    for person in people:
        await gql(
            "mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }",
            {"i": {"password": PASSWORD}},
            token=person.token,
        )
    query = """query($first: Int!, $after: String, $status: [DeletionStatus!]) {
      deletionQueue(first: $first, after: $after, status: $status) {
        edges { node { id accountId status } } pageInfo { hasNextPage endCursor } } }"""

    def page_of(body):
        return body["data"]["deletionQueue"]

    first = page_of(await gql(query, {"first": 2}, token=operator.token))
    assert first["pageInfo"]["hasNextPage"] is True
    rest = page_of(
        await gql(
            query, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=operator.token
        )
    )
    assert rest["pageInfo"]["hasNextPage"] is False
    nodes = [e["node"] for e in first["edges"] + rest["edges"]]
    assert sorted(n["accountId"] for n in nodes) == sorted(p.id for p in people)
    assert {n["status"] for n in nodes} == {"PENDING"}
    assert all(type_of(n["id"]) == "PendingDeletion" for n in nodes)

    done = page_of(await gql(query, {"first": 10, "status": ["DONE"]}, token=operator.token))
    assert done["edges"] == []
    pending = page_of(
        await gql(query, {"first": 10, "status": ["PENDING", "DONE"]}, token=operator.token)
    )
    assert len(pending["edges"]) == 3
    forged = page_of(await gql(query, {"first": 10, "after": "bm9wZQ=="}, token=operator.token))
    assert forged["edges"] == []
    refused = await gql(query, {"first": 1}, token=people[0].token, expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "NOT_AUTHENTICATED"}
