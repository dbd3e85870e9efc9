"""``auth_time`` is believed only when it is a number a time can be: Python's JSON reader
takes NaN, Infinity and integers of any size, and each of those, taken as the moment the
user last signed in, would make any later moment look recent (or fail the request)."""

from __future__ import annotations

import pytest

from models.accounts.oidc import verify_id_token
from models.accounts.provider_keys import ProviderKeys
from tests.oidc_provider import acme


@pytest.mark.parametrize(
    "auth_time", [float("nan"), float("inf"), 10**400], ids=["nan", "infinity", "huge-int"]
)
async def test_an_auth_time_that_is_no_time_falls_back_to_the_issue_time(auth_time) -> None:
    idp = acme()
    token = idp.id_token("subject-1", auth_time=auth_time)
    identity = await verify_id_token(ProviderKeys({idp.name: idp.config()}), idp.name, token)
    issued = idp.claims("subject-1")["iat"]
    assert abs(identity.authenticated_at - issued) <= 5


async def test_a_real_auth_time_is_believed() -> None:
    idp = acme()
    issued = idp.claims("subject-1")["iat"]
    token = idp.id_token("subject-1", auth_time=issued - 3600)
    identity = await verify_id_token(ProviderKeys({idp.name: idp.config()}), idp.name, token)
    assert identity.authenticated_at == issued - 3600
