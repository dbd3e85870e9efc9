"""Private pictures in an ``<img>`` (issue 14): ``Picture.url`` is a short-lived signed link
that reads the file without an Authorization header; expired or tampered links are refused,
and only someone who may read the picture ever gets one."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from models import clock as domain_clock
from tests.ids import gid, key
from tests.personal_helpers import register, submitted, uploaded

PICTURE = "query($id: ID!) { node(id: $id) { ... on Picture { id url } } }"
MY_PICTURES = "{ viewer { feedback { edges { node { pictures { id url } } } } } }"


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_the_owner_shows_a_private_picture_without_a_header(gql, client):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    await submitted(gql, alice.token, visibility="PRIVATE", pictureIds=[picture["id"]])
    body = await gql(MY_PICTURES, token=alice.token)
    [shown] = body["data"]["viewer"]["feedback"]["edges"][0]["node"]["pictures"]
    assert urlsplit(shown["url"]).path == f"/pictures/{key(picture['id'])}"

    served = await client.get(shown["url"])  # as an <img src>: no Authorization header
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert "private" in served.headers["cache-control"]
    # The same link for a while, so browsers and Apollo's cache keep it.
    again = (await gql(MY_PICTURES, token=alice.token))["data"]["viewer"]["feedback"]
    assert again["edges"][0]["node"]["pictures"][0]["url"] == shown["url"]


async def test_a_public_picture_has_a_link_for_anyone(gql, client):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    await submitted(gql, alice.token, visibility="PUBLIC", subject="s", pictureIds=[picture["id"]])
    body = await gql('{ publicFeedback(subject: "s") { edges { node { pictures { url } } } } }')
    url = body["data"]["publicFeedback"]["edges"][0]["node"]["pictures"][0]["url"]
    assert (await client.get(url)).status_code == 200


async def test_an_expired_link_is_refused(gql, client, clock):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    url = picture["url"]
    assert (await client.get(url)).status_code == 200
    real = domain_clock.now
    clock.use(lambda: real() + timedelta(minutes=4, seconds=59))  # valid 5 minutes at least
    assert (await client.get(url)).status_code == 200
    clock.use(lambda: real() + timedelta(minutes=10, seconds=1))  # and never for more than 10
    assert (await client.get(url)).status_code == 403


async def test_a_tampered_link_is_refused(gql, client):
    alice = await register(gql, "alice")
    mine = await uploaded(client, alice.token)
    other = await uploaded(client, alice.token)
    given = _query(mine["url"])
    path = urlsplit(mine["url"]).path
    expires, signature = given["expires"], given["signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    later = str(int(expires) + 3600)
    for tampered in [
        f"{path}?expires={expires}&signature={flipped}",  # another signature
        f"{path}?expires={later}&signature={signature}",  # a longer life
        f"/pictures/{key(other['id'])}?expires={expires}&signature={signature}",  # another file
        f"{path}?expires={expires}",  # no signature
        f"{path}?signature={signature}",  # no expiry
        f"{path}?expires=soon&signature={signature}",
        f"{path}?expires={expires}&signature=%C3%A9",
    ]:
        response = await client.get(tampered)
        assert response.status_code == 403, tampered
        assert response.content == b""


async def test_another_users_picture_never_yields_a_link(gql, client):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    unattached = await uploaded(client, alice.token)
    private = await uploaded(client, alice.token)
    await submitted(gql, alice.token, visibility="PRIVATE", pictureIds=[private["id"]])
    for picture in (unattached, private):
        for token in (bob.token, None):
            body = await gql(PICTURE, {"id": picture["id"]}, token=token)
            assert body["data"]["node"] is None
    # Nor through the feedback it belongs to.
    feedback = (await gql(MY_PICTURES, token=alice.token))["data"]["viewer"]["feedback"]
    feedback_id = await gql("{ viewer { feedback { edges { node { id } } } } }", token=alice.token)
    node = feedback_id["data"]["viewer"]["feedback"]["edges"][0]["node"]["id"]
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Feedback { pictures { url } } } }",
        {"id": node},
        token=bob.token,
    )
    assert body["data"]["node"] is None
    assert feedback["edges"]  # alice herself sees it
    # The owner asking through node gets hers.
    mine = await gql(PICTURE, {"id": private["id"]}, token=alice.token)
    assert mine["data"]["node"]["url"].startswith(f"/pictures/{key(private['id'])}?")
    assert gid("Picture", key(private["id"])) == private["id"]
