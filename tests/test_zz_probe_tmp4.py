import json
from tests.personal_helpers import *  # noqa

async def test_probe(gql, client):
    a = await register(gql, "alice")
    for depth in (500,):
        cfg = "{\"a\":" * depth + "1" + "}" * depth
        body = '{"query": %s, "variables": {"input": {"message": "m", "deviceConfig": %s}}}' % (json.dumps(REPORT_ERROR), cfg)
        r = await client.post("/graphql", content=body, headers={"content-type": "application/json", "authorization": f"Bearer {a.token}"})
        print("R:", depth, r.status_code, r.text[:200])
