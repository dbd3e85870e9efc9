"""What operators see (issue 7): campaign(id), campaigns(first, after), queueStatus,
Prometheus /metrics, and the campaignProgress subscription over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import itertools
import re

import workers.settings as worker_settings_module
from models.accounts.account import Role
from models.notifications.campaigns import Campaign, CampaignShard
from models.queue import Queue
from tests.conftest import GraphQL
from tests.consent_helpers import WebSocketSession, published
from tests.notification_helpers import CAMPAIGN, person, report_incident, run_worker
from tests.test_worker import burst_worker

CAMPAIGNS = """
query($first: Int!, $after: String) {
  campaigns(first: $first, after: $after) {
    edges { cursor node { id kind status total } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

QUEUE = "{ queueStatus { queued inProgress failedLastHour byFunction { name queued } } }"

PROGRESS = """
subscription($id: ID!) {
  campaignProgress(id: $id) { status total created delivered failed pending progress }
}
"""


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def _staff(gql):
    officer = await person(gql, "officer.ops", role=Role.PRIVACY_OFFICER)
    operator = await person(gql, "operator.ops", role=Role.OPERATOR)
    user = await person(gql, "user.ops")
    return officer, operator, user


async def test_campaign_and_campaigns_for_operators_only(gql, settings, redis_url):
    officer, operator, user = await _staff(gql)
    first = await report_incident(gql, officer.token, affectedAccountIds=[user.id], title="First")
    second = await report_incident(gql, officer.token, allAccounts=True, title="Second")
    first_id, second_id = first["campaign"]["id"], second["campaign"]["id"]

    before = (await gql(CAMPAIGN, {"id": second_id}, token=operator.token))["data"]["campaign"]
    assert before == {
        "id": second_id,
        "kind": "SECURITY_INCIDENT",
        "channels": ["EMAIL", "IN_APP"],
        "status": "FANNING_OUT",
        "total": 3,
        "created": 0,
        "delivered": 0,
        "failed": 0,
        "progress": 0.0,
    }
    await run_worker(settings, redis_url)
    for token in (operator.token, officer.token):
        after = (await gql(CAMPAIGN, {"id": second_id}, token=token))["data"]["campaign"]
        assert (
            after["status"],
            after["total"],
            after["created"],
            after["delivered"],
            after["failed"],
            after["progress"],
        ) == ("DONE", 3, 6, 6, 0, 1.0)

    page = (await gql(CAMPAIGNS, {"first": 1, "after": None}, token=operator.token))["data"]
    edges = page["campaigns"]["edges"]
    assert [e["node"]["id"] for e in edges] == [second_id]
    assert page["campaigns"]["pageInfo"]["hasNextPage"] is True
    rest = await gql(
        CAMPAIGNS,
        {"first": 5, "after": page["campaigns"]["pageInfo"]["endCursor"]},
        token=officer.token,
    )
    assert [e["node"] for e in rest["data"]["campaigns"]["edges"]] == [
        {"id": first_id, "kind": "SECURITY_INCIDENT", "status": "DONE", "total": 1}
    ]
    assert rest["data"]["campaigns"]["pageInfo"]["hasNextPage"] is False

    # Unknown or malformed ids: no campaign, and no server error.
    for strange in ("987654", "abc", "²", "99999999999999999999999"):
        body = await gql(CAMPAIGN, {"id": strange}, token=operator.token)
        assert body["data"]["campaign"] is None, strange

    for token, code in ((user.token, "FORBIDDEN"), (None, "NOT_AUTHENTICATED")):
        one = await gql(CAMPAIGN, {"id": first_id}, token=token, expect_errors=True)
        assert one["data"]["campaign"] is None and _codes(one) == [code]
        many = await gql(CAMPAIGNS, {"first": 5, "after": None}, token=token, expect_errors=True)
        assert many["data"] is None and _codes(many) == [code]
        queue = await gql(QUEUE, token=token, expect_errors=True)
        assert queue["data"] is None and _codes(queue) == [code]


async def test_queue_status_reflects_queued_running_and_failed_jobs(
    app_with, settings, redis_url, monkeypatch
):
    async with app_with(fanout_shards=3) as http:
        gql = GraphQL(http)
        officer, operator, _ = await _staff(gql)
        for n in range(4):
            await person(gql, f"member{n}.queue")
        await run_worker(settings, redis_url)  # the jobs that sent their verification codes
        empty = (await gql(QUEUE, token=operator.token))["data"]["queueStatus"]
        assert empty == {"queued": 0, "inProgress": 0, "failedLastHour": 0, "byFunction": []}

        await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
        campaign = await Campaign.get()
        assert await CampaignShard.filter(campaign_id=campaign.id).count() == 3
        status = (await gql(QUEUE, token=officer.token))["data"]["queueStatus"]
        assert status == {
            "queued": 3,
            "inProgress": 0,
            "failedLastHour": 0,
            "byFunction": [{"name": "fan_out", "queued": 3}],
        }
        # A delivery job that fails (its campaign does not exist) counts as a failure.
        queue = await Queue.connect(redis_url, settings.queue_name)
        try:
            assert await queue.enqueue("deliver_notifications", 987654, "EMAIL")
        finally:
            await queue.close()
        status = (await gql(QUEUE, token=officer.token))["data"]["queueStatus"]
        assert status["queued"] == 4
        assert status["byFunction"] == [
            {"name": "deliver_notifications", "queued": 1},
            {"name": "fan_out", "queued": 3},
        ]

        # Hold the fan-out jobs while the worker runs them: they are in progress.
        real_fan_out = worker_settings_module.fan_out
        running, release = asyncio.Event(), asyncio.Event()

        async def held(ctx, shard_id):
            running.set()
            await release.wait()
            return await real_fan_out(ctx, shard_id)

        held.__name__ = "fan_out"
        monkeypatch.setattr(worker_settings_module, "fan_out", held)
        worker = burst_worker(settings, redis_url)
        task = asyncio.create_task(worker.async_run())
        try:
            await asyncio.wait_for(running.wait(), 10)
            for _ in range(100):
                status = (await gql(QUEUE, token=operator.token))["data"]["queueStatus"]
                if status["inProgress"] >= 1:
                    break
                await asyncio.sleep(0.05)
            assert status["inProgress"] >= 1
        finally:
            release.set()
            await asyncio.wait_for(task, 30)
            await worker.close()
        assert worker.jobs_failed == 1
        status = (await gql(QUEUE, token=operator.token))["data"]["queueStatus"]
        assert status == {"queued": 0, "inProgress": 0, "failedLastHour": 1, "byFunction": []}


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the Prometheus text format."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


async def test_metrics_expose_jobs_queue_sent_and_latency(gql, client, settings, redis_url):
    officer, _, user = await _staff(gql)
    await run_worker(settings, redis_url)  # the jobs that sent their verification codes
    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    text = (await client.get("/metrics")).text
    assert _sample(text, "accord_queue_depth") == 1.0
    await run_worker(settings, redis_url)
    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        assert await queue.enqueue("deliver_notifications", 987654, "SMS")
        assert await queue.enqueue("deliver_notifications", 987655, "SMS")
    finally:
        await queue.close()

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _sample(text, "accord_queue_depth") == 2.0
    assert _sample(text, "accord_jobs_total", function="fan_out", outcome="started") == 1.0
    assert _sample(text, "accord_jobs_total", function="fan_out", outcome="succeeded") == 1.0
    assert (
        _sample(text, "accord_jobs_total", function="deliver_notifications", outcome="succeeded")
        == 1.0
    )
    # Three accounts (officer, operator, user), each in-app and by e-mail.
    assert (
        _sample(text, "accord_notifications_sent_total", channel="IN_APP", kind="POLICY_CHANGE")
        == 3.0
    )
    assert (
        _sample(text, "accord_notifications_sent_total", channel="EMAIL", kind="POLICY_CHANGE")
        == 3.0
    )
    graphql_requests = _sample(
        text, "accord_request_seconds_count", method="POST", route="/graphql", status="200"
    )
    assert graphql_requests is not None and graphql_requests >= 4
    assert (
        _sample(
            text,
            "accord_request_seconds_bucket",
            method="POST",
            route="/graphql",
            status="200",
            le="+Inf",
        )
        == graphql_requests
    )

    await run_worker(settings, redis_url)  # the two deliveries of unknown campaigns fail
    text = (await client.get("/metrics")).text
    assert (
        _sample(text, "accord_jobs_total", function="deliver_notifications", outcome="failed")
        == 2.0
    )
    assert _sample(text, "accord_queue_depth") == 0.0
    assert user.id  # (the user is one of the three accounts counted above)


async def test_metrics_want_the_token_when_one_is_set(app_with):
    token = "metrics-token-" + "z" * 24
    async with app_with(metrics_token=token) as http:
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        right = await http.get("/metrics", headers={"authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "accord_queue_depth" in right.text


async def _subscribe(ws: WebSocketSession, token: str, campaign_id: str) -> None:
    await ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.send(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": PROGRESS, "variables": {"id": campaign_id}},
        }
    )


async def test_campaign_progress_is_pushed_until_done(app, gql, settings, redis_url):
    officer, operator, _ = await _staff(gql)
    for n in range(5):
        await person(gql, f"member{n}.live")
    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    campaign_id = str((await Campaign.get()).id)

    async with WebSocketSession(app) as ws:
        await _subscribe(ws, operator.token, campaign_id)
        first = await ws.receive()
        assert first["type"] == "next", first
        assert first["payload"]["data"]["campaignProgress"] == {
            "status": "FANNING_OUT",
            "total": 8,
            "created": 0,
            "delivered": 0,
            "failed": 0,
            "pending": 0,
            "progress": 0.0,
        }
        # Nothing changes, so nothing more is pushed (it polls every half second).
        assert await ws.nothing_for(1.2)
        worker = asyncio.create_task(run_worker(settings, redis_url, notification_batch_size=2))
        seen = [first["payload"]["data"]["campaignProgress"]]
        try:
            while True:
                message = await ws.receive(wait=30)
                if message["type"] == "complete":
                    break
                assert message["type"] == "next", message
                seen.append(message["payload"]["data"]["campaignProgress"])
        finally:
            await asyncio.wait_for(worker, 60)
        assert message == {"id": "1", "type": "complete"}
        last = seen[-1]
        assert last == {
            "status": "DONE",
            "total": 8,
            "created": 16,
            "delivered": 16,
            "failed": 0,
            "pending": 0,
            "progress": 1.0,
        }
        assert len(seen) >= 2
        assert [p["created"] for p in seen] == sorted(p["created"] for p in seen)
        assert [p["delivered"] for p in seen] == sorted(p["delivered"] for p in seen)
        assert all(a != b for a, b in itertools.pairwise(seen)), "only changes"

    # Finished: a new subscriber gets the final state at once, then completion.
    async with WebSocketSession(app) as ws:
        await _subscribe(ws, officer.token, campaign_id)
        assert (await ws.receive())["payload"]["data"]["campaignProgress"] == last
        assert (await ws.receive()) == {"id": "1", "type": "complete"}


async def test_campaign_progress_is_for_operators_only(app, gql):
    officer, _, user = await _staff(gql)
    result = await report_incident(gql, officer.token, allAccounts=True)
    campaign_id = result["campaign"]["id"]
    for token, target, code in (
        (user.token, campaign_id, "FORBIDDEN"),
        (officer.token, "987654", "NOT_FOUND"),
        (officer.token, "²", "NOT_FOUND"),
    ):
        async with WebSocketSession(app) as ws:
            await _subscribe(ws, token, target)
            message = await ws.receive()
            assert message["type"] in ("error", "next"), message
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert [e["extensions"]["code"] for e in errors] == [code]
