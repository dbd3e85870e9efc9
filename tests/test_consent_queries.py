"""`viewer { consents consentHistory(first: 50) }` costs the same number of SQL queries
however many purposes and events there are."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from models.consent.purposes import Purpose
from tests.consent_helpers import event, officer, published, register, sync, utcnow
from tests.device_ids import device_id

VIEWER = """
{ viewer {
    consents { purpose { code } granted policyVersion { version } }
    consentHistory(first: 50) {
      edges { node { purpose { code } policyVersion { version } } }
    }
} }
"""


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.queries.append(record.getMessage())


@contextmanager
def counting_queries():
    logger = logging.getLogger("tortoise.db_client")
    counter = _Counter()
    level, disabled = logger.level, logger.disabled
    logger.disabled = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter.queries
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.disabled = disabled


async def _count(gql, token: str) -> tuple[int, dict, list[str]]:
    await gql(VIEWER, token=token)  # the session is touched at most once a minute: settle it
    with counting_queries() as queries:
        body = await gql(VIEWER, token=token)
    return len(queries), body["data"]["viewer"], queries


async def test_viewer_consents_and_history_do_not_grow_with_the_data(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    await published(gql, staff.token, "v2")
    alice = await register(gql, "alice")
    start = utcnow() - timedelta(hours=1)
    await sync(
        gql,
        [event("analytics", True, at=start), event("advertising", False, version="v2", at=start)],
        device_id=device_id("phone-0000-q01"),
        token=alice.token,
    )
    small_count, small, small_queries = await _count(gql, alice.token)
    assert small_count >= 4, small_queries  # the handler really sees the queries
    assert any("consent_event" in q for q in small_queries)
    assert len(small["consents"]) == 5
    assert len(small["consentHistory"]["edges"]) == 2

    for n in range(8):
        await Purpose.create(code=f"extra-{n}", title=f"Extra {n}", description="More.")
    codes = [p.code for p in await Purpose.filter(required=False)]
    batch = [
        event(
            codes[i % len(codes)],
            i % 2 == 0,
            version=("v1", "v2")[i % 2],
            at=start + timedelta(seconds=i),
        )
        for i in range(58)
    ]
    await sync(gql, batch, device_id=device_id("phone-0000-q01"), token=alice.token)
    big_count, big, big_queries = await _count(gql, alice.token)
    assert len(big["consents"]) == 13
    assert len(big["consentHistory"]["edges"]) == 50
    assert all(
        e["node"]["purpose"] and e["node"]["policyVersion"] for e in big["consentHistory"]["edges"]
    )
    decided = [c for c in big["consents"] if c["policyVersion"]]
    assert len(decided) == 12
    assert big_count == small_count, (small_queries, big_queries)
