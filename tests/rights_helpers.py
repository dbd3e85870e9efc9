"""Shared steps of the correction, erasure, decision and staff audit tests (issue 16)."""

from __future__ import annotations

from typing import Any

from tests.personal_helpers import ERRORS

REQUEST = "request { id kind status dueAt reason asked { note correction { kind field rowId requestedValue } erasures { kind rowIds } } }"

REQUEST_CORRECTION = f"""
mutation($input: RequestCorrectionInput!) {{
  requestCorrection(input: $input) {{ {REQUEST} {ERRORS} }}
}}"""

REQUEST_ERASURE = f"""
mutation($input: RequestErasureInput!) {{
  requestErasure(input: $input) {{ {REQUEST} {ERRORS} }}
}}"""

DECIDE = f"""
mutation($input: DecideDataRequestInput!) {{
  decideDataRequest(input: $input) {{ request {{ id kind status reason completedAt }} {ERRORS} }}
}}"""

OPEN_REQUEST = """
query($id: ID!, $reason: String!) {
  dataRequest(id: $id, reason: $reason) {
    id kind status
    asked { note correction { kind field rowId requestedValue currentValue }
            erasures { kind rowIds } }
  }
}"""

MY_REQUESTS = """
{ viewer { dataRequests(first: 50) { edges { node {
  id kind status reason completedAt asked { note correction { field requestedValue } } } } } } }"""

AUDIT_LOG = """
query($staffId: ID, $subjectId: ID, $first: Int! = 50, $after: String) {
  staffAuditLog(staffId: $staffId, subjectId: $subjectId, first: $first, after: $after) {
    edges { node {
      id seq at staffId staffRole action subjectId resource resourceId reason prevHash hash
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

VERIFY = "{ verifyStaffAuditLog { ok checked firstBrokenEntryId } }"

NOTICES = """
{ viewer { notifications(first: 50) { edges { node { kind title body } } } } }"""


async def request_correction(gql, token: str, **given: Any) -> dict[str, Any]:
    body = await gql(REQUEST_CORRECTION, {"input": given}, token=token)
    return body["data"]["requestCorrection"]


async def correction_filed(gql, token: str, **given: Any) -> dict[str, Any]:
    result = await request_correction(gql, token, **given)
    assert result["errors"] == [], result
    return result["request"]


async def request_erasure(gql, token: str, **given: Any) -> dict[str, Any]:
    body = await gql(REQUEST_ERASURE, {"input": given}, token=token)
    return body["data"]["requestErasure"]


async def erasure_filed(gql, token: str, **given: Any) -> dict[str, Any]:
    result = await request_erasure(gql, token, **given)
    assert result["errors"] == [], result
    return result["request"]


async def decide(
    gql, token: str | None, request_id: str, decision: str, reason: str | None = None
) -> dict[str, Any]:
    given: dict[str, Any] = {"id": request_id, "decision": decision}
    if reason is not None:
        given["reason"] = reason
    body = await gql(DECIDE, {"input": given}, token=token)
    return body["data"]["decideDataRequest"]


async def decided(gql, token: str, request_id: str, decision: str, reason: str | None = None):
    result = await decide(gql, token, request_id, decision, reason)
    assert result["errors"] == [], result
    return result["request"]


async def audit_log(gql, token: str, **filters: Any) -> list[dict[str, Any]]:
    body = await gql(AUDIT_LOG, filters, token=token)
    return [edge["node"] for edge in body["data"]["staffAuditLog"]["edges"]]


async def verify(gql, token: str) -> dict[str, Any]:
    return (await gql(VERIFY, token=token))["data"]["verifyStaffAuditLog"]


async def notices(gql, token: str) -> list[dict[str, Any]]:
    body = await gql(NOTICES, token=token)
    return [edge["node"] for edge in body["data"]["viewer"]["notifications"]["edges"]]


async def my_requests(gql, token: str) -> list[dict[str, Any]]:
    body = await gql(MY_REQUESTS, token=token)
    return [edge["node"] for edge in body["data"]["viewer"]["dataRequests"]["edges"]]
