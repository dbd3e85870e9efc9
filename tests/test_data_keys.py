"""Per-subject data keys (issue 17, first slice): files sealed with their owner's key,
crypto-shredding at deletion (a copy taken before is unreadable after), tampering detected,
the master key checked at start-up, rotated online and resumably, and kept in Vault."""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tink
import uvicorn
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from accord.master_keys import MasterKeyError, VaultTransitKey, master_keys, new_keyset_json
from models.accounts.account import Account, account_name_index
from models.keys.data_keys import (
    BLIND_INDEX_SUBJECT,
    DESTROYED,
    KeyDestroyed,
    account_subject,
    check_master_keys,
    rewrap,
    rotate_master,
    streaming_aead_of,
    tombstone,
)
from models.keys.key_store import MasterKeyCheck, SubjectKey
from models.keys.sealed_files import FileEncryption, FileUnreadable, opened, put_sealed
from models.personal.pictures import Picture, open_picture
from models.personal.storage import LocalStorage
from models.rights.deletion import DeletionOutcome, run_deletion
from models.rights.requests import DeletionRequest
from tests.conftest import make_settings
from tests.ids import key
from tests.personal_helpers import PASSWORD, file_path, image_bytes, register, uploaded
from tests.test_deletion import make_due

PNG = b"\x89PNG\r\n\x1a\n"
CANCEL = """mutation($i: CancelAccountInput!) {
  cancelAccount(input: $i) { deletionDueAt errors { code } } }"""


def storage_of(settings) -> LocalStorage:
    return LocalStorage(settings.data_dir / "files")


async def _plain(settings, picture: Picture) -> bytes:
    file = await open_picture(picture, settings, storage_of(settings))
    assert file is not None
    try:
        return file.read()
    finally:
        file.close()


async def test_a_picture_copied_before_deletion_cannot_be_read_after(gql, client, settings):
    alice = await register(gql, "alice.shred")
    original = image_bytes("PNG", (80, 60))
    picture = await uploaded(client, alice.token, original, filename="a.png")
    row = await Picture.get(id=key(picture["id"]))
    assert row.encryption == FileEncryption.TINK_STREAMING_V1
    served = await client.get(
        file_path(picture), headers={"authorization": f"Bearer {alice.token}"}
    )
    assert served.status_code == 200 and served.content.startswith(PNG)
    assert served.content == await _plain(settings, row)
    # The file as stored (a backup of it, say): no PNG signature, none of the picture.
    backup = (settings.data_dir / "files" / row.storage_key).read_bytes()
    assert PNG not in backup and served.content[16:64] not in backup

    body = await gql(CANCEL, {"i": {"password": PASSWORD, "reason": ""}}, token=alice.token)
    assert body["data"]["cancelAccount"]["errors"] == []
    account_id = (await Account.get(account_name_index=await account_name_index("alice.shred"))).id
    await make_due(account_id)
    assert await run_deletion(account_id, settings, storage_of(settings)) == DeletionOutcome.DONE

    request = await DeletionRequest.get(account_id=account_id)
    assert request.key_destroyed_at is not None and request.completed_at is not None
    assert request.key_destroyed_at <= request.completed_at
    subject = account_subject(account_id)
    assert not await SubjectKey.exists(subject=subject)
    left = await SubjectKey.get(subject=tombstone(settings, subject))
    assert left.subject.startswith(DESTROYED) and left.keysets is None and left.destroyed_at

    # The backup, restored beside the live service: its key is gone, no live key opens it.
    with pytest.raises(KeyDestroyed):
        await opened(
            settings, subject, io.BytesIO(backup), row.storage_key, FileEncryption(row.encryption)
        )
    with pytest.raises(KeyDestroyed):  # and no new key is ever made for the subject
        await streaming_aead_of(settings, subject, create=True)
    for live in await SubjectKey.filter(keysets__isnull=False).exclude(subject=BLIND_INDEX_SUBJECT):
        primitive = await streaming_aead_of(settings, live.subject)
        with pytest.raises(tink.TinkError):
            primitive.new_decrypting_stream(io.BytesIO(backup), row.storage_key.encode()).read()


async def test_an_altered_picture_is_refused_cleanly(gql, client, settings):
    alice = await register(gql, "alice.tamper")
    picture = await uploaded(client, alice.token, image_bytes("PNG", (300, 200)), filename="a.png")
    row = await Picture.get(id=key(picture["id"]))
    path = settings.data_dir / "files" / row.storage_key
    sealed = bytearray(path.read_bytes())
    sealed[len(sealed) // 2] ^= 0x01
    path.write_bytes(bytes(sealed))

    with pytest.raises(FileUnreadable):
        await _plain(settings, row)
    answer = await client.get(
        file_path(picture), headers={"authorization": f"Bearer {alice.token}"}
    )
    assert answer.status_code == 410
    assert answer.headers["content-type"].startswith("text/plain") and PNG not in answer.content
    signed = await client.get(picture["url"])
    assert signed.status_code == 410

    # A sealed file moved under another picture's name does not open either.
    other = await uploaded(client, alice.token, image_bytes("PNG", (10, 10)), filename="b.png")
    other_row = await Picture.get(id=key(other["id"]))
    moved = settings.data_dir / "files" / other_row.storage_key
    fresh = await uploaded(client, alice.token, image_bytes("PNG", (12, 12)), filename="c.png")
    fresh_row = await Picture.get(id=key(fresh["id"]))
    shutil.copyfile(settings.data_dir / "files" / fresh_row.storage_key, moved)
    with pytest.raises(FileUnreadable):
        await _plain(settings, other_row)


async def test_pictures_stored_before_encryption_are_read_as_they_are(gql, client, settings):
    alice = await register(gql, "alice.legacy")
    account = await Account.get(account_name_index=await account_name_index("alice.legacy"))
    data = image_bytes("PNG", (20, 20))
    await storage_of(settings).put("pictures/aa/legacy", data)
    row = await Picture.create(
        owner=account,
        storage_key="pictures/aa/legacy",
        content_type="image/png",
        width=20,
        height=20,
        size=len(data),
        encryption=FileEncryption.NONE,
    )
    answer = await client.get(
        f"/pictures/{row.id}", headers={"authorization": f"Bearer {alice.token}"}
    )
    assert answer.status_code == 200 and answer.content == data


def _one_line(error: Exception) -> str:
    text = str(error)
    assert "\n" not in text
    return text


async def test_a_wrong_master_key_refuses_start_up_and_writes_nothing(
    app, settings, data_dir, database_url, redis_url
):
    await put_sealed(settings, storage_of(settings), "account:777", "pictures/aa/x", b"data")
    await check_master_keys(settings)
    before = (await SubjectKey.all().count(), await MasterKeyCheck.all().count())
    assert before == (1, 1)
    wrong = make_settings(data_dir, database_url, redis_url, master_key=new_keyset_json())
    with pytest.raises(MasterKeyError) as refused:
        await check_master_keys(wrong)
    assert "wrong master key" in _one_line(refused.value)
    assert (await SubjectKey.all().count(), await MasterKeyCheck.all().count()) == before

    # The same master key id with other key bytes (a corrupted or forged file): refused too.
    good = master_keys(settings).current
    check = await MasterKeyCheck.get(master_key_id=good.key_id)
    await MasterKeyCheck.filter(id=check.id).update(
        canary=base64.b64encode(b"\x01" + os.urandom(40)).decode()
    )
    with pytest.raises(MasterKeyError):
        await check_master_keys(settings)
    await MasterKeyCheck.filter(id=check.id).update(canary=check.canary)

    # A forged key file keeping the right key id: refused by the data keys themselves,
    # even with no check value recorded.
    import json

    real = json.loads((data_dir / "master-key.json").read_text())
    other = json.loads(new_keyset_json())
    real["key"][0]["keyData"] = other["key"][0]["keyData"]
    forged = make_settings(data_dir, database_url, redis_url, master_key=json.dumps(real))
    assert master_keys(forged).current.key_id == good.key_id
    await MasterKeyCheck.all().delete()
    with pytest.raises(MasterKeyError) as refused:
        await check_master_keys(forged)
    assert "cannot decrypt the data keys" in _one_line(refused.value)
    assert await MasterKeyCheck.all().count() == 0  # nothing written
    await check_master_keys(settings)

    # The command itself: one line on stderr, exit code 2, before it listens anywhere.
    env = {
        **os.environ,
        "ACCORD_DATA_DIR": str(data_dir),
        "DATABASE_URL": settings.effective_database_url,
        "ACCORD_KEY_STORE_URL": settings.effective_key_store_url,
        "ACCORD_MASTER_KEY": wrong.master_key.get_secret_value(),
        "ACCORD_SECRET_KEY": settings.secret_key.get_secret_value(),
        "ACCORD_LOG_LEVEL": "WARNING",
    }
    run = subprocess.run(
        [sys.executable, "-m", "accord", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "wrong master key" in lines[0], run.stderr
    assert (await SubjectKey.all().count(), await MasterKeyCheck.all().count()) == before


def test_prod_refuses_to_start_without_a_master_key(tmp_path):
    from accord.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as refused:
        load_settings(
            env="prod",
            data_dir=tmp_path,
            secret_key="s" * 40,
            receipt_signing_key="pem",
        )
    assert "master key" in str(refused.value)


async def _reads(settings, subject: str, sealed: bytes) -> bool:
    primitive = await streaming_aead_of(settings, subject)
    plain = primitive.new_decrypting_stream(io.BytesIO(sealed), subject.encode()).read()
    return bool(plain == subject.encode() * 100)


async def test_rotating_the_master_key_online_interrupted_and_resumed(
    app, settings, data_dir, database_url, redis_url
):
    await check_master_keys(settings)
    subjects = [f"account:{900 + n}" for n in range(5)]
    samples = {}
    for subject in subjects:
        buffer = io.BytesIO()
        primitive = await streaming_aead_of(settings, subject, create=True)
        writer = primitive.new_encrypting_stream(_Keep(buffer), subject.encode())
        writer.write(subject.encode() * 100)
        writer.close()
        samples[subject] = buffer.getvalue()
    old_id = master_keys(settings).current.key_id
    new_key = new_keyset_json()
    # The service restarted with the new key current and the old one previous.
    rotating = make_settings(
        data_dir,
        database_url,
        redis_url,
        master_key=new_key,
        previous_master_key_file=data_dir / "master-key.json",
    )
    new_id = master_keys(rotating).current.key_id
    assert new_id != old_id
    await check_master_keys(rotating)

    assert await rotate_master(rotating, batch_size=2, limit=3) == 3  # interrupted
    ids = sorted(await SubjectKey.all().values_list("master_key_id", flat=True))
    assert ids.count(new_id) == 3 and ids.count(old_id) == 2
    for subject in subjects:  # online: every key reads, whichever master wraps it
        assert await _reads(rotating, subject, samples[subject])
    late = "account:999"  # a key made during the rotation is wrapped by the new key
    await streaming_aead_of(rotating, late, create=True)
    assert (await SubjectKey.get(subject=late)).master_key_id == new_id

    assert await rotate_master(rotating, batch_size=2) == 2  # resumed: only the rest
    assert await rotate_master(rotating, batch_size=2) == 0  # twice: harmless
    assert set(await SubjectKey.all().values_list("master_key_id", flat=True)) == {new_id}

    # The old key dropped: everything still reads under the new one alone.
    rotated = make_settings(data_dir, database_url, redis_url, master_key=new_key)
    await check_master_keys(rotated)
    for subject in subjects:
        assert await _reads(rotated, subject, samples[subject])
    # And the old key alone is now refused at start-up, in one line.
    with pytest.raises(MasterKeyError) as refused:
        await check_master_keys(settings)
    assert "not configured" in _one_line(refused.value) or "wrong" in str(refused.value)


class _Keep(io.RawIOBase):
    def __init__(self, out: io.BytesIO) -> None:
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        return self.out.write(data)


# --- Vault transit, against a fake of the two endpoints hvac calls ---------------------------

VAULT_TOKEN = "s.test-token"


def fake_transit() -> Starlette:
    """POST /v1/transit/encrypt/<key> and /decrypt/<key>, as Vault answers them (AES-GCM,
    ``associated_data`` bound, ciphertext ``vault:v1:<base64>``)."""
    keys: dict[str, bytes] = {}

    def authorised(request: Request) -> bool:
        return request.headers.get("x-vault-token") == VAULT_TOKEN

    async def encrypt(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"errors": ["permission denied"]}, status_code=403)
        body = await request.json()
        key = keys.setdefault(request.path_params["name"], AESGCM.generate_key(bit_length=256))
        nonce = os.urandom(12)
        associated = base64.b64decode(body.get("associated_data") or "")
        sealed = AESGCM(key).encrypt(nonce, base64.b64decode(body["plaintext"]), associated)
        text = "vault:v1:" + base64.b64encode(nonce + sealed).decode()
        return JSONResponse({"data": {"ciphertext": text, "key_version": 1}})

    async def decrypt(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"errors": ["permission denied"]}, status_code=403)
        body = await request.json()
        key = keys.get(request.path_params["name"])
        raw = base64.b64decode(str(body["ciphertext"]).removeprefix("vault:v1:"))
        associated = base64.b64decode(body.get("associated_data") or "")
        try:
            assert key is not None
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], associated)
        except Exception:
            return JSONResponse(
                {"errors": ["cipher: message authentication failed"]}, status_code=400
            )
        return JSONResponse({"data": {"plaintext": base64.b64encode(plain).decode()}})

    return Starlette(
        routes=[
            Route("/v1/transit/encrypt/{name}", encrypt, methods=["POST"]),
            Route("/v1/transit/decrypt/{name}", decrypt, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
def vault_addr() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(fake_transit(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


async def test_vault_transit_wraps_the_data_keys(
    app, vault_addr, data_dir, database_url, redis_url, tmp_path: Path
):
    vaulted = make_settings(
        data_dir,
        database_url,
        redis_url,
        vault_addr=vault_addr,
        vault_token=VAULT_TOKEN,
        vault_transit_key="accord",
    )
    master = master_keys(vaulted).current
    assert isinstance(master, VaultTransitKey) and master.key_id == "vault:accord"
    await check_master_keys(vaulted)
    subject = "account:4242"
    sealed = io.BytesIO()
    primitive = await streaming_aead_of(vaulted, subject, create=True)
    writer = primitive.new_encrypting_stream(_Keep(sealed), subject.encode())
    writer.write(subject.encode() * 100)
    writer.close()
    row = await SubjectKey.get(subject=subject)
    assert row.master_key_id == "vault:accord" and row.keysets
    assert await _reads(vaulted, subject, sealed.getvalue())

    # Transit binds the associated data: a keyset moved to another subject does not open.
    other = VaultTransitKey(master.client, "accord")
    with pytest.raises(tink.TinkError):
        rewrap("account:1", row.keysets, other, other)
    # A wrong token is a tink error (no data key is handed out), not a crash.
    import hvac

    intruder = VaultTransitKey(hvac.Client(url=vault_addr, token="s.wrong"), "accord")
    with pytest.raises(tink.TinkError):
        rewrap(subject, row.keysets, intruder, intruder)


async def test_a_data_key_is_made_once_when_many_ask_at_once(app, settings):
    import asyncio

    subject = "account:31337"
    primitives = await asyncio.gather(
        *(streaming_aead_of(settings, subject, create=True) for _ in range(8))
    )
    assert await SubjectKey.filter(subject=subject).count() == 1
    sealed = io.BytesIO()
    writer = primitives[0].new_encrypting_stream(_Keep(sealed), b"k")
    writer.write(b"same key for all")
    writer.close()
    for primitive in primitives[1:]:  # whoever lost the insert reads the winner's key
        plain = primitive.new_decrypting_stream(io.BytesIO(sealed.getvalue()), b"k").read()
        assert plain == b"same key for all"
