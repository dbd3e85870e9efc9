import json
from tests.personal_helpers import *  # noqa

async def test_probe(gql, client):
    a = await register(gql, "alice")
    for q, v in [
        (PUBLIC_FEEDBACK, {"subject": "a\u0000"}),
        (PUBLIC_FEEDBACK, {"subject": "a\ud800"}),
        (FAVORITES, {"first": 5, "itemType": "a\u0000"}),
        (FAVORITES, {"first": 5, "itemType": "a\ud800"}),
        (FAVORITES, {"first": 5, "after": "\ud800"}),
        (CLEAR_DEVICE, {"deviceId": "\ud800" * 10}),
    ]:
        r = await client.post("/graphql", content=json.dumps({"query": q, "variables": v}), headers={"content-type": "application/json", "authorization": f"Bearer {a.token}"})
        print("R:", r.status_code, r.text[:200])
