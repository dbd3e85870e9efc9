"""Sealed fields: personal values stored as authenticated ciphertext under the data key of
their subject (``models.keys.data_keys``), so that destroying that key (deletion) leaves every
copy of them, in any backup, unreadable.

A sealed column is TEXT and holds ``ak1.<key ref>.<ciphertext>``: ``ak1`` names this format,
``<key ref>`` is the id of the subject's key row in the key store (an opaque number, not the
subject), and ``<ciphertext>`` is unpadded URL-safe base64 of tink's AEAD output (0x01 and a
4-byte key id, a 12-byte nonce, the AES-256-GCM ciphertext and its 16-byte tag). The
associated data is ``<table>.<column>|<key ref>``: a value copied into another column, or
relabelled with another key, does not open.

How rows come and go, with nothing to remember at the call site:

- Reading: a sealed model's queries (``SealedManager``) return rows whose sealed values are
  opened, the keys of all their subjects read from the key store in one query (and kept
  ``ACCORD_DATA_KEY_CACHE_SECONDS``), including rows fetched with ``select_related``. A value
  whose key was destroyed reads as None (or "" where the column is NOT NULL); a value that
  does not authenticate raises ``SealedValueUnreadable``, never garbage.
- Writing: ``save()`` and ``bulk_create()`` of a ``SealedModel`` fetch the subject's key and
  seal as the row is written; a row whose subject is its own id (an account) is inserted
  first and sealed in the same transaction. ``QuerySet.update`` takes ``await sealed(...)``
  values; a plain string there is refused (``SealingRefused``), as is a filter on a sealed
  column (equality goes through ``models.keys.blind_indexes``).
- ``Cleartext`` marks a value that is not personal (a tombstone's placeholder), written as is;
  so is the empty string (its ciphertext's length would tell as much), which costs no
  decrypt on reading (an empty note on each of fifty favorites).
- ``SealedJSONField`` holds a JSON object or list, sealed as its compact JSON text;
  ``SealedEnumField`` an enum's member, sealed as its value.

Strings stored before this module (plain text) read as they are; ``accord migrate`` seals
them (``models.keys.backfill``).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Awaitable, Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import tink
from tink import aead
from tortoise import fields
from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction
from tortoise.validators import MaxLengthValidator

from models.keys import data_keys, key_ring
from models.keys.blind_indexes import blind_index

PREFIX = "ak1."


class SealingRefused(Exception):
    """A personal value about to be written in the clear, or compared in SQL: a bug."""


class SealedValueUnreadable(Exception):
    """A stored value that does not authenticate: changed on disk, or moved."""

    def __init__(self, where: str) -> None:
        super().__init__(f"{where}: the stored value failed its integrity check")
        self.where = where


class Cleartext(str):
    """A value for a sealed column that is not personal (a placeholder): stored as is."""


class Sealed:
    """A stored value not opened yet (between the database and ``open_rows``), or sealed
    for an ``update``."""

    __slots__ = ("ref", "stored")

    def __init__(self, ref: int, stored: str) -> None:
        self.ref, self.stored = ref, stored

    def __repr__(self) -> str:
        return f"Sealed(key {self.ref})"


# --- the keys, kept a short while -----------------------------------------------------------

#: The most keys kept by each map below: a delivery to 100,000 addresses opens 100,000
#: keys once each, and must not keep them all.
KEYS_KEPT = 4096
#: By key reference: when it was read, and its subject and key (None: destroyed).
_by_ref: dict[int, tuple[float, tuple[str, aead.Aead] | None]] = {}
_by_subject: dict[str, tuple[float, int, aead.Aead]] = {}


#: Opened texts by key reference, then by (column, stored text): a value read again while
#: its key is kept opens without decrypting (the viewer's page reads the same 200 values
#: on every request). Kept exactly as long as the key itself: dropped when the key is read
#: again from the key store (it may have been destroyed meanwhile) and with every key.
_plain_by_ref: dict[int, dict[tuple[int, str], str]] = {}
#: The most opened texts kept, all keys together.
PLAIN_KEPT = 65_536
_plain_count = 0


def _forget_keys() -> None:
    global _plain_count
    _by_ref.clear()
    _by_subject.clear()
    _plain_by_ref.clear()
    _plain_count = 0


key_ring.keeps_cache(_forget_keys)


async def _keys_by_ref(refs: set[int]) -> dict[int, tuple[str, aead.Aead] | None]:
    settings, now = key_ring.installed(), time.monotonic()
    ttl, missing = settings.data_key_cache_seconds, set()
    found: dict[int, tuple[str, aead.Aead] | None] = {}
    for ref in refs:
        cached = _by_ref.get(ref)
        if cached is not None and now - cached[0] <= ttl:
            found[ref] = cached[1]
        else:
            missing.add(ref)
    if missing:
        if len(_by_ref) + len(missing) > KEYS_KEPT:  # many subjects at once: start over
            _forget_keys()
        loaded = await data_keys.field_keys(settings, missing)
        for ref, key in loaded.items():
            _by_ref[ref] = (now, key)
            _plain_by_ref.pop(ref, None)  # what it opened is kept no longer than the key
        found.update(loaded)
    return found


async def _key_for(subject: str) -> tuple[int, aead.Aead]:
    settings, now = key_ring.installed(), time.monotonic()
    cached = _by_subject.get(subject)
    if cached is not None and now - cached[0] <= settings.data_key_cache_seconds:
        return cached[1], cached[2]
    if len(_by_subject) > KEYS_KEPT:
        _by_subject.clear()
    ref, key = await data_keys.field_key(settings, subject)
    _by_subject[subject] = (now, ref, key)
    _by_ref[ref] = (now, (subject, key))
    return ref, key


# --- the format -------------------------------------------------------------------------------


_associated_by: dict[tuple[int, int], bytes] = {}
#: The URL-safe alphabet to the standard one, for ``binascii`` (a third faster than
#: ``base64.urlsafe_b64decode``: a page of 200 values pays it 200 times).
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _associated(field: SealedField, ref: int) -> bytes:
    """``<table>.<column>|<key ref>``, made once per column and key."""
    found = _associated_by.get((id(field), ref))
    if found is None:
        if len(_associated_by) > KEYS_KEPT:
            _associated_by.clear()
        column = field.source_field or field.model_field_name
        found = f"{field.model._meta.db_table}.{column}|{ref}".encode()
        _associated_by[(id(field), ref)] = found
    return found


def _seal(field: SealedField, ref: int, key: aead.Aead, value: str) -> str:
    blob = key.encrypt(value.encode(), _associated(field, ref))
    return f"{PREFIX}{ref}.{base64.urlsafe_b64encode(blob).rstrip(b'=').decode()}"


def _open(field: SealedField, value: Sealed, key: aead.Aead, row: Any) -> str:
    stored = value.stored
    text = stored.removeprefix(PREFIX).split(".", 1)[1]
    try:
        padded = (text + "=" * (-len(text) % 4)).encode()
        blob = binascii.a2b_base64(padded.translate(_FROM_URLSAFE))
        plain: bytes = key.decrypt(blob, _associated(field, value.ref))
        return plain.decode()
    except (tink.TinkError, ValueError):
        raise SealedValueUnreadable(f"{field._where()}{_label(row)}") from None


def _label(row: Any) -> str:
    """How an error names a row: its key (never its content)."""
    return f" #{row.pk}" if isinstance(row, Model) else ""


class SealedField(fields.TextField):
    """A personal text column, sealed under its row's subject key (see the module)."""

    def __init__(
        self,
        max_length: int | None = None,
        blind_index: tuple[str, str] | None = None,
        placeholders: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        """``blind_index``: (the field that holds the value's blind index, its purpose),
        kept by every save (``models.keys.blind_indexes``). ``placeholders``: texts that
        are not personal (written as ``Cleartext``), which ``accord migrate`` leaves as they
        are."""
        super().__init__(**kwargs)
        self.blind_index = blind_index
        self.placeholders = placeholders
        if max_length is not None:  # the plain value's limit; the column holds more
            self.validators.append(MaxLengthValidator(max_length))

    def to_python_value(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            ref, _, _ = value.removeprefix(PREFIX).partition(".")
            return Sealed(int(ref), value)
        return value

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if value is None or value == "" or isinstance(value, Cleartext):
            return value
        if isinstance(value, Sealed):
            return value.stored
        sealing = getattr(instance, "_sealing", None) if isinstance(instance, Model) else None
        if sealing is None:
            raise SealingRefused(
                f"{self._where()}: a personal value is sealed by save(), bulk_create() or "
                "sealed(), never written or compared in the clear"
            )
        ref, key = sealing
        return _seal(self, ref, key, self.dump(value))

    def dump(self, value: Any) -> str:
        """The plain text sealed for ``value``."""
        return str(value)

    def parse(self, plain: str) -> Any:
        """The value an opened text stands for."""
        return plain

    def shredded(self) -> Any:
        """What a value whose key was destroyed reads as."""
        return None if self.null else ""

    def _where(self) -> str:
        return f"{self.model._meta.db_table}.{self.model_field_name}"


class SealedJSONField(SealedField):
    """A personal JSON value (an object or a list), sealed as its compact JSON text."""

    if TYPE_CHECKING:  # a JSON value on the row, not the text the column holds

        def __get__(self, instance: Any, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: Any) -> None: ...

    def to_python_value(self, value: Any) -> Any:
        if isinstance(value, str) and value and not value.startswith(PREFIX):
            return json.loads(value)  # stored before sealing (``accord migrate`` seals it)
        return super().to_python_value(value)

    def dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def parse(self, plain: str) -> Any:
        return json.loads(plain)


class SealedEnumField(SealedField):
    """A personal choice among an enum's members (a gender), sealed as the member's value;
    it reads as the field's default once its key is destroyed."""

    if TYPE_CHECKING:  # a member on the row, not the text the column holds

        def __get__(self, instance: Any, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: Any) -> None: ...

    def __init__(self, enum_type: type[StrEnum], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enum_type = enum_type

    def to_python_value(self, value: Any) -> Any:
        if isinstance(value, str) and value and not value.startswith(PREFIX):
            return self.enum_type(value)  # a placeholder, or stored before sealing
        return super().to_python_value(value)

    def dump(self, value: Any) -> str:
        return str(self.enum_type(value).value)

    def parse(self, plain: str) -> Any:
        return self.enum_type(plain)

    def shredded(self) -> Any:
        return self.default


_sealed_by_model: dict[type[Model], tuple[SealedField, ...]] = {}


def sealed_fields_of(model: type[Model]) -> tuple[SealedField, ...]:
    """The model's sealed fields (asked for every row read: kept per model)."""
    found = _sealed_by_model.get(model)
    if found is None:
        fields_map = model._meta.fields_map.values()
        found = tuple(f for f in fields_map if isinstance(f, SealedField))
        _sealed_by_model[model] = found
    return found


# --- reading ----------------------------------------------------------------------------------


def _collect(
    rows: Iterable[Any], into: list[tuple[Model, SealedField, Sealed]], nested: bool
) -> None:
    """The sealed values of ``rows`` and, when ``nested``, of the rows loaded with them."""
    seen: set[int] = set()
    stack = [row for row in rows if isinstance(row, Model)]
    while stack:
        row = stack.pop()
        if id(row) in seen:
            continue
        seen.add(id(row))
        for field in sealed_fields_of(type(row)):
            value = row.__dict__.get(field.model_field_name)
            if isinstance(value, Sealed):
                into.append((row, field, value))
        if nested:
            stack.extend(v for v in row.__dict__.values() if isinstance(v, Model))


async def open_rows(rows: Iterable[Any], *, nested: bool = True) -> None:
    """Open, in place, every sealed value of these rows and (``nested``) of the rows loaded
    with them."""
    found: list[tuple[Model, SealedField, Sealed]] = []
    _collect(rows, found, nested)
    if not found:
        return
    keys = await _keys_by_ref({value.ref for _, _, value in found})
    last_row, subject = None, None  # a row's values are found together: its subject once
    for row, field, value in found:
        found_key = keys.get(value.ref)
        if row is not last_row:
            last_row = row
            subject = row.sealed_subject() if isinstance(row, SealedModel) else None
        if found_key is not None and subject is not None and found_key[0] != subject:
            # Authentic, but another subject's: a value copied here from another row.
            raise SealedValueUnreadable(f"{field._where()}{_label(row)}")
        object.__setattr__(row, field.model_field_name, _opened_once(field, value, found_key, row))


async def open_values(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Open, in place, the sealed values of rows read as dicts (``.values()``) of ``model``."""
    found: list[tuple[dict[str, Any], SealedField, Sealed]] = []
    for field in sealed_fields_of(model):
        name = field.model_field_name
        for row in rows:
            value = row.get(name)
            if isinstance(value, str) and value.startswith(PREFIX):
                value = field.to_python_value(value)
            if isinstance(value, Sealed):
                found.append((row, field, value))
    if not found:
        return
    keys = await _keys_by_ref({value.ref for _, _, value in found})
    for row, field, value in found:
        row[field.model_field_name] = _opened_once(field, value, keys.get(value.ref), None)


async def open_column(model: type[Model], name: str, values: Sequence[Any]) -> list[Any]:
    """``values`` of ``model.name`` read by ``values_list`` (possibly across a relation),
    opened."""
    rows = [{name: value} for value in values]
    await open_values(model, rows)
    return [row[name] for row in rows]


def _opened_once(
    field: SealedField, value: Sealed, key: tuple[str, aead.Aead] | None, row: Any
) -> Any:
    """The value a stored text stands for, decrypted once while its key is kept
    (``_plain_by_ref``): a value sealed once for many rows (a consent batch's browser), or
    read again, opens from memory. The memory is by column, so a text moved to another
    column still fails its check; a JSON value is parsed for each row, which owns it."""
    global _plain_count
    if key is None:  # crypto-shredded: the value is gone
        return field.shredded()
    kept = _plain_by_ref.get(value.ref)
    if kept is None:
        kept = _plain_by_ref[value.ref] = {}
    memo = (id(field), value.stored)
    plain = kept.get(memo)
    if plain is None:
        plain = _open(field, value, key[1], row)
        if _plain_count >= PLAIN_KEPT:
            for texts in _plain_by_ref.values():
                texts.clear()
            _plain_count = 0
        kept[memo] = plain
        _plain_count += 1
    return field.parse(plain)


MODEL = TypeVar("MODEL", bound=Model)


class SealedQuerySet(QuerySet[MODEL]):
    """A query whose rows come back opened."""

    async def _execute(self) -> Any:
        result = await super()._execute()
        if not self._select_related and not sealed_fields_of(self.model):
            return result  # nothing sealed was read (most queries of most models)
        nested = bool(self._select_related)  # else no row holds another: skip that walk
        if isinstance(result, list):
            await open_rows(result, nested=nested)
        elif result is not None:
            await open_rows([result], nested=nested)
        return result


class SealedManager(Manager):
    def get_queryset(self) -> QuerySet[Any]:
        return SealedQuerySet(self._model)


# --- writing ----------------------------------------------------------------------------------


async def sealed(model: type[Model], field_name: str, subject: str, value: Any) -> Any:
    """``value`` sealed for ``model.field_name`` under ``subject``'s key, for an update."""
    if value is None or value == "" or isinstance(value, Cleartext):
        return value
    field = model._meta.fields_map[field_name]
    assert isinstance(field, SealedField), f"{field_name} is not sealed"
    ref, key = await _key_for(subject)
    return Sealed(ref, _seal(field, ref, key, field.dump(value)))


async def sealed_text(model: type[Model], field_name: str, subject: str, value: Any) -> Any:
    """``value`` as the column stores it once sealed, for a row written in SQL."""
    value = await sealed(model, field_name, subject, value)
    return value.stored if isinstance(value, Sealed) else value


async def reseal(rows: Iterable[Any], **changes: Any) -> None:
    """Make the ``changes`` that move the rows to another subject (an author's id set to
    None: kept anonymised) and seal their values again under that subject's key, a row at a
    time (the rows were read opened)."""
    for row in rows:
        assert isinstance(row, SealedModel)
        for name, value in changes.items():
            setattr(row, name, value)
        names = [field.model_field_name for field in sealed_fields_of(type(row))]
        await row.save(update_fields=[*changes, *names])


class SealedModel(Model):
    """A model with sealed fields. ``sealed_subject`` names whose key seals the row
    (``account:<id>``); None while that id is the row's own and not yet assigned."""

    class Meta:
        abstract = True

    def sealed_subject(self) -> str | None:
        raise NotImplementedError

    async def save(
        self,
        using_db: Any = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        subject = self.sealed_subject()
        if subject is not None or all(
            _plain(self, f) is None for f in sealed_fields_of(type(self))
        ):
            await self._save_sealed(subject, using_db, update_fields, force_create, force_update)
            return
        # The subject is this row's own id: insert with the sealed columns empty, then seal
        # them, in one transaction (nothing half-written is ever visible).
        names = [f.model_field_name for f in sealed_fields_of(type(self))]
        plain = {name: getattr(self, name) for name in names}
        # The transaction's own connection: the one ``create`` passes in would wait for it.
        async with in_transaction(self._meta.default_connection) as connection:
            for field in sealed_fields_of(type(self)):
                blank = None if field.null else Cleartext("")
                object.__setattr__(self, field.model_field_name, blank)
            await super().save(connection, update_fields, force_create, force_update)
            for name, value in plain.items():
                object.__setattr__(self, name, value)
            subject = self.sealed_subject()
            assert subject is not None, "the row has its id now"
            await self._save_sealed(subject, connection, names, False, True)

    async def _save_sealed(
        self,
        subject: str | None,
        using_db: Any,
        update_fields: Iterable[str] | None,
        force_create: bool,
        force_update: bool,
    ) -> None:
        names = set(update_fields) if update_fields is not None else None
        await _prepare(self, subject, names)
        if names is not None:  # the blind indexes of the fields written go with them
            names |= {f.blind_index[0] for f in _indexed(self, names) if f.blind_index}
        try:
            await super().save(using_db, names, force_create, force_update)
        finally:
            self.__dict__.pop("_sealing", None)

    @classmethod
    def bulk_create(  # type: ignore[override]
        cls, objects: Iterable[Any], *args: Any, **kwargs: Any
    ) -> Awaitable[Any]:
        rows = list(objects)
        query = super().bulk_create(rows, *args, **kwargs)
        return _sealing_all(rows, query)


async def _sealing_all(rows: Sequence[Model], query: Awaitable[Any]) -> Any:
    for row in rows:
        assert isinstance(row, SealedModel)
        subject = row.sealed_subject()
        if subject is None:
            raise SealingRefused(f"{row._meta.db_table}: bulk_create needs each row's subject")
        await _prepare(row, subject, None)
    try:
        return await query
    finally:
        for row in rows:
            row.__dict__.pop("_sealing", None)


def _plain(row: Model, field: SealedField) -> Any:
    """The row's value of ``field`` if it is one to seal (not None, empty, a placeholder or
    a value read unopened)."""
    value = row.__dict__.get(field.model_field_name)
    if value is None or value == "" or isinstance(value, (Cleartext, Sealed)):
        return None
    return value


def _indexed(row: Model, names: set[str] | None) -> list[SealedField]:
    return [
        field
        for field in sealed_fields_of(type(row))
        if field.blind_index is not None and (names is None or field.model_field_name in names)
    ]


async def _prepare(row: Model, subject: str | None, names: set[str] | None) -> None:
    """The key the row's plain values are sealed with as it is written (only fetched when
    one needs it: a tombstone of placeholders is written after its key is gone), and the
    blind indexes of what is written."""
    written = [
        f for f in sealed_fields_of(type(row)) if names is None or f.model_field_name in names
    ]
    if any(_plain(row, field) is not None for field in written):
        assert subject is not None, "a row sealed under its own id is inserted first"
        object.__setattr__(row, "_sealing", await _key_for(subject))
    for field in _indexed(row, names):
        assert field.blind_index is not None
        value = row.__dict__.get(field.model_field_name)
        if isinstance(value, Sealed):
            continue  # unchanged since it was read unopened: so is its index
        plain = _plain(row, field)
        index_field, purpose = field.blind_index
        digest = None if plain is None else await blind_index(purpose, plain)
        object.__setattr__(row, index_field, digest)
