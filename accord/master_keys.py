"""The master key: what wraps every subject's data key (envelope encryption).

Data keys (``models.keys.data_keys``) are stored only as tink encrypted keysets, encrypted by
the master key; the master key itself is never stored in the database. Its sources, chosen
by the settings, in this order:

- HashiCorp Vault transit (``ACCORD_VAULT_ADDR``, ``ACCORD_VAULT_TOKEN``,
  ``ACCORD_VAULT_TRANSIT_KEY``): the key never leaves Vault; Accord asks it to encrypt and
  decrypt the (small) keysets, through ``hvac``. Key id ``vault:<key name>``.
- ``ACCORD_MASTER_KEY``: a tink JSON keyset holding an AEAD key (e.g. ``AES256_GCM``).
- ``ACCORD_MASTER_KEY_FILE``: the same, in a file.
- In dev only: ``<data_dir>/master-key.json``, made on first use (0600). Prod refuses to
  start without one of the above (``accord.settings.load_settings``).

Key id of a tink keyset: ``tink:<its primary key id>``. Each wrapped data key names the id
of the master key that wrapped it, so during a rotation the service reads keys wrapped by
either: the new key is the current one and the old one is given as the previous
(``ACCORD_PREVIOUS_MASTER_KEY_FILE``, ``ACCORD_PREVIOUS_MASTER_KEY`` or
``ACCORD_VAULT_PREVIOUS_TRANSIT_KEY``) until ``accord keys rotate-master`` has re-wrapped
everything.
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tink
from tink import aead, secret_key_access, streaming_aead

from accord.settings import Settings

aead.register()
streaming_aead.register()

DEV_FILE = "master-key.json"


class MasterKeyError(Exception):
    """The master key is missing, malformed or wrong; the message is one line."""


class MasterKey(aead.Aead):
    """A tink AEAD with an id that rows store, so a reader knows which key wrapped them."""

    key_id: str


class TinkMasterKey(MasterKey):
    def __init__(self, handle: tink.KeysetHandle) -> None:
        self._aead = handle.primitive(aead.Aead)
        self.key_id = f"tink:{handle.keyset_info().primary_key_id}"

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        return self._aead.encrypt(plaintext, associated_data)

    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        return self._aead.decrypt(ciphertext, associated_data)


class VaultTransitKey(MasterKey):
    """Vault's transit engine as a tink AEAD: ``encrypt/<key>`` and ``decrypt/<key>``, the
    associated data sent as transit's ``associated_data`` (AES-GCM keys). Its ciphertext is
    transit's own (``vault:v<version>:<base64>``); a key rotated inside Vault keeps reading
    older versions, so only a move to another key name needs ``accord keys rotate-master``."""

    def __init__(self, client: Any, name: str, mount_point: str = "transit") -> None:
        self.client, self.name, self.mount_point = client, name, mount_point
        self.key_id = f"vault:{name}"

    def _extra(self, associated_data: bytes) -> dict[str, str]:
        if not associated_data:
            return {}
        return {"associated_data": base64.b64encode(associated_data).decode()}

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        try:
            answer = self.client.secrets.transit.encrypt_data(
                name=self.name,
                plaintext=base64.b64encode(plaintext).decode(),
                mount_point=self.mount_point,
                **self._extra(associated_data),
            )
        except Exception as error:  # hvac raises its own hierarchy and requests' errors
            raise tink.TinkError(f"vault transit encrypt failed: {error}") from None
        return str(answer["data"]["ciphertext"]).encode()

    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        try:
            answer = self.client.secrets.transit.decrypt_data(
                name=self.name,
                ciphertext=ciphertext.decode(),
                mount_point=self.mount_point,
                **self._extra(associated_data),
            )
        except Exception as error:  # see encrypt
            raise tink.TinkError(f"vault transit decrypt failed: {error}") from None
        return base64.b64decode(answer["data"]["plaintext"])


@dataclass(frozen=True)
class MasterKeys:
    """The current master key (wraps new data keys) and, during a rotation, the previous."""

    current: MasterKey
    previous: MasterKey | None = None

    def by_id(self, key_id: str | None) -> MasterKey | None:
        for key in (self.current, self.previous):
            if key is not None and key.key_id == key_id:
                return key
        return None

    @property
    def ids(self) -> list[str]:
        return [key.key_id for key in (self.current, self.previous) if key is not None]


def new_keyset_json() -> str:
    """A fresh master keyset (AES256_GCM), as tink's JSON keyset format."""
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    return tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN)


def read_keyset(text: str, where: str) -> TinkMasterKey:
    try:
        handle = tink.json_proto_keyset_format.parse(text, secret_key_access.TOKEN)
        return TinkMasterKey(handle)
    except (tink.TinkError, ValueError, TypeError) as error:
        raise MasterKeyError(
            f"{where}: not a tink JSON keyset with an AEAD key ({error})"
        ) from None


def _read_file(path: Path, variable: str) -> TinkMasterKey:
    try:
        text = path.read_text()
    except OSError as error:
        raise MasterKeyError(f"{variable}: cannot read {path} ({error.strerror})") from None
    return read_keyset(text, variable)


def dev_key_file(settings: Settings) -> Path:
    """``<data_dir>/master-key.json``, made if missing, readable by its owner only."""
    path = settings.data_dir / DEV_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            return path
        with os.fdopen(descriptor, "w") as out:
            out.write(new_keyset_json())
    return path


def _vault(settings: Settings, name: str) -> VaultTransitKey:
    import hvac  # only deployments with Vault pay for importing it

    if not settings.vault_addr:
        raise MasterKeyError("ACCORD_VAULT_ADDR: required with a Vault transit key")
    token = settings.vault_token.get_secret_value() if settings.vault_token else None
    return VaultTransitKey(hvac.Client(url=settings.vault_addr, token=token), name)


def _load(settings: Settings) -> MasterKeys:
    if settings.vault_transit_key:
        current: MasterKey = _vault(settings, settings.vault_transit_key)
    elif settings.master_key is not None:
        current = read_keyset(settings.master_key.get_secret_value(), "ACCORD_MASTER_KEY")
    elif settings.master_key_file is not None:
        current = _read_file(settings.master_key_file, "ACCORD_MASTER_KEY_FILE")
    elif settings.is_prod:
        raise MasterKeyError(
            "ACCORD_MASTER_KEY_FILE: a master key is required when ACCORD_ENV=prod"
        )
    else:
        current = _read_file(dev_key_file(settings), "the dev master key")
    previous: MasterKey | None = None
    if settings.vault_previous_transit_key:
        previous = _vault(settings, settings.vault_previous_transit_key)
    elif settings.previous_master_key is not None:
        previous = read_keyset(
            settings.previous_master_key.get_secret_value(), "ACCORD_PREVIOUS_MASTER_KEY"
        )
    elif settings.previous_master_key_file is not None:
        previous = _read_file(settings.previous_master_key_file, "ACCORD_PREVIOUS_MASTER_KEY_FILE")
    if previous is not None and previous.key_id == current.key_id:
        previous = None
    return MasterKeys(current, previous)


_loaded: dict[tuple[object, ...], MasterKeys] = {}
_lock = threading.Lock()


def _source(settings: Settings) -> tuple[object, ...]:
    secret = lambda value: value.get_secret_value() if value is not None else None  # noqa: E731
    return (
        settings.env,
        settings.data_dir.resolve(),
        settings.master_key_file,
        secret(settings.master_key),
        settings.previous_master_key_file,
        secret(settings.previous_master_key),
        settings.vault_addr,
        secret(settings.vault_token),
        settings.vault_transit_key,
        settings.vault_previous_transit_key,
    )


def master_keys(settings: Settings) -> MasterKeys:
    """The master keys the settings name, read once per process (per source)."""
    source = _source(settings)
    with _lock:
        keys = _loaded.get(source)
        if keys is None:
            keys = _loaded[source] = _load(settings)
    return keys
