"""The world most end-to-end tests start from: an app that trusts its test proxy and signs
in through a real OIDC provider, with a privacy officer, a support agent and an operator,
a published policy, and the job queue. Registered for every test by ``conftest``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from models.accounts.account import Account, Role, account_name_index
from models.queue import Queue

PASSWORD = "correct horse battery staple"
PROXY = "127.0.0.1"  # the ASGI test transport's peer; trusted so X-Forwarded-For counts


async def staff(app: Any, name: str, role: Role) -> str:
    """A staff member's token: registered through the API, then given the role."""
    body = await app.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }",
        {"i": {"accountName": name, "password": PASSWORD, "nickname": name}},
    )
    await Account.filter(account_name_index=await account_name_index(name)).update(role=role)
    token: str = body["data"]["register"]["token"]
    return token


@pytest.fixture
async def world(app_with, tmp_path, settings, redis_url) -> AsyncIterator[tuple[Any, ...]]:
    """(the app, the staff's tokens by role name, the queue)."""
    from tests.oidc_provider import provider_app  # it imports conftest, which imports this

    async with provider_app(app_with, tmp_path, trusted_proxies=[PROXY]) as app:
        officer = await staff(app, "the.officer", Role.PRIVACY_OFFICER)
        support = await staff(app, "the.support", Role.SUPPORT)
        operator = await staff(app, "the.operator", Role.OPERATOR)
        published = await app.gql(
            """mutation { publishPolicy(input: {version: "v1", summary: "s", text: "policy",
            effectiveAt: "2020-01-01T00:00:00Z", material: true, changeCategories: [OTHER]})
            { errors { code } } }""",
            token=officer,
        )
        assert published["data"]["publishPolicy"]["errors"] == []
        queue = await Queue.connect(redis_url, settings.queue_name)
        try:
            yield app, {"officer": officer, "support": support, "operator": operator}, queue
        finally:
            await queue.close()
