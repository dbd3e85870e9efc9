"""Recording consent: decisions from the web, acceptance of a policy, offline batches from
mobile apps, and linking an anonymous device's history to the account that signs in on it.

Every path ends in ``models.consent.ledger.append`` (through ``_append``); nothing here writes
events any other way. A decision that ends consent to a purpose erases, in the same
transaction, the data that existed only by that purpose (``models.personal.consent_bound``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, cast

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.consent.errors import ConsentErrorCode
from models.consent.ledger import (
    DEVICE_INDEX,
    Appended,
    ConsentChain,
    ConsentEvent,
    DeviceLink,
    EventKind,
    EventRecord,
    NewEvent,
    Source,
    account_subject,
    append,
    content_digest,
    device_subject,
    has_accepted,
    latest_decisions,
    new_key,
    subject_account_id,
    subjects_of,
)
from models.consent.policies import PolicyVersion, material_in_effect
from models.consent.purposes import Purpose
from models.errors import DomainError
from models.keys.blind_indexes import blind_index
from models.keys.device_refs import device_ref
from models.personal.consent_bound import erase_on_withdrawal


async def _append(
    subject: str,
    events: list[NewEvent],
    *,
    user_agent: str = "",
    client_address: str = "",
    reload: bool = True,
) -> Appended:
    """``append``, with the erasure that a withdrawal (or a device link) brings committed
    in the same transaction."""

    async def erase(stored: Sequence[ConsentEvent | EventRecord]) -> None:
        await erase_on_withdrawal(subject, stored)

    return await append(
        subject,
        events,
        user_agent=user_agent,
        client_address=client_address,
        reload=reload,
        then=erase,
    )


async def record_decisions(
    subject: str, events: list[NewEvent], *, user_agent: str = "", client_address: str = ""
) -> int:
    """Append decisions no client call made (a browser's privacy signal), with what a
    withdrawal erases; returns how many were new (the chain skips keys it holds)."""
    appended = await _append(
        subject, events, user_agent=user_agent, client_address=client_address, reload=False
    )
    return len(appended.stored)


@dataclass
class Requested:
    """One decision as a client sends it."""

    purpose: str
    granted: bool
    policy_version: str
    source: Source
    client_timestamp: datetime
    idempotency_key: str


@dataclass
class Malformed:
    """An event the client sent that could not be read (not a JSON object, a field missing
    or of the wrong type); it is REJECTED as INVALID. Its key is "" when it has none."""

    idempotency_key: str = ""


class SyncStatus(StrEnum):
    """What became of one event a client synced."""

    ACCEPTED = "ACCEPTED"
    #: Already in the ledger, with the same content: a retry. Nothing stored twice.
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"
    #: Its idempotency key already stands for another decision (Stripe's rule): nothing
    #: stored, the ledger keeps the first. A new decision needs a new key.
    CONFLICT = "CONFLICT"


@dataclass
class Judged:
    key: str  # normalised (lower case): what is stored and compared
    status: SyncStatus
    code: ConsentErrorCode | None = None
    #: The key as the client wrote it (iOS writes UUIDs in upper case), echoed back so the
    #: client can match each result to its event.
    sent: str = ""
    #: Where the event was in the batch: a malformed one has no key to match it by.
    index: int = 0
    #: ACCEPTED or DUPLICATE, but a decision with a later client time already decides its
    #: purpose: it is in the ledger, and the current state is the later one.
    superseded: bool = False
    #: The decision as it would be stored (None for a malformed event).
    event: NewEvent | None = field(default=None, repr=False)


class _Catalogue:
    """Purposes and policy versions, loaded once per call whatever the batch size."""

    def __init__(self, purposes: dict[str, Purpose], versions: dict[str, PolicyVersion]) -> None:
        self.purposes = purposes
        self.versions = versions

    @classmethod
    async def load(cls, versions: set[str]) -> _Catalogue:
        purposes = {p.code: p for p in await Purpose.all()}
        found = {v.version: v for v in await PolicyVersion.filter(version__in=list(versions))}
        return cls(purposes, found)

    def problem(self, request: Requested, settings: Settings) -> ConsentErrorCode | None:
        purpose = self.purposes.get(request.purpose)
        if purpose is None:
            return ConsentErrorCode.UNKNOWN_PURPOSE
        version = self.versions.get(request.policy_version)
        if version is None:
            return ConsentErrorCode.UNKNOWN_POLICY_VERSION
        if version.purpose_codes and request.purpose not in version.purpose_codes:
            return ConsentErrorCode.PURPOSE_NOT_IN_POLICY
        if purpose.required and not request.granted:
            return ConsentErrorCode.REQUIRED_PURPOSE
        moment = clock.now()
        if request.client_timestamp > moment + settings.consent_clock_skew:
            return ConsentErrorCode.CLOCK_SKEW
        if request.client_timestamp < moment - settings.consent_max_event_age:
            return ConsentErrorCode.TOO_OLD
        return None


def _event(request: Requested, device_id: str | None) -> NewEvent:
    return NewEvent(
        kind=EventKind.GRANTED if request.granted else EventKind.WITHDRAWN,
        source=request.source,
        idempotency_key=request.idempotency_key,
        client_timestamp=request.client_timestamp,
        purpose_code=request.purpose,
        policy_version=request.policy_version,
        device_id=device_id,
    )


async def set_consents(
    subject: str,
    settings: Settings,
    *,
    policy_version: str,
    decisions: list[tuple[str, bool]],
    source: Source,
    device_id: str | None = None,
    user_agent: str = "",
    client_address: str = "",
) -> list[ConsentEvent]:
    """All or nothing: one invalid decision refuses the whole call, naming it."""
    if not decisions:
        raise DomainError(ConsentErrorCode.REQUIRED, "decisions", "give at least one decision")
    if len(decisions) > 100:
        raise DomainError(ConsentErrorCode.TOO_MANY_EVENTS, "decisions", "at most 100 decisions")
    catalogue = await _Catalogue.load({policy_version})
    moment = clock.now()
    requests = [
        Requested(code, granted, policy_version, source, moment, new_key())
        for code, granted in decisions
    ]
    for index, request in enumerate(requests):
        problem = catalogue.problem(request, settings)
        if problem is not None:
            where = (
                "policyVersion"
                if problem == ConsentErrorCode.UNKNOWN_POLICY_VERSION
                else (f"decisions.{index}.purpose")
            )
            raise DomainError(problem, where, f"cannot record {request.purpose!r}: {problem}")
    appended = await _append(
        subject,
        [_event(r, device_id) for r in requests],
        user_agent=user_agent,
        client_address=client_address,
    )
    return cast("list[ConsentEvent]", appended.stored)  # append reloads the rows by default


async def accept_policy(
    subject: str,
    *,
    policy_version: str,
    source: Source,
    device_id: str | None = None,
    user_agent: str = "",
    client_address: str = "",
) -> ConsentEvent:
    if not await PolicyVersion.filter(version=policy_version).exists():
        raise DomainError(
            ConsentErrorCode.UNKNOWN_POLICY_VERSION, "policyVersion", "no such published version"
        )
    appended = await _append(
        subject,
        [
            NewEvent(
                kind=EventKind.POLICY_ACCEPTED,
                source=source,
                idempotency_key=new_key(),
                client_timestamp=clock.now(),
                policy_version=policy_version,
                device_id=device_id,
            )
        ],
        user_agent=user_agent,
        client_address=client_address,
    )
    return cast("ConsentEvent", appended.stored[0])  # append reloads the rows by default


# --- offline sync --------------------------------------------------------------------------


def _chain_tag(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()[:16]


class SyncPosition(NamedTuple):
    """How far a client has read its subject's stream.

    ``seq``: the chain position read up to. ``inner``: set while the client is part-way
    through the history of a device linked at ``seq`` (that device's own chain, read up to
    ``inner``); None once that history, if any, has been read in full.
    """

    seq: int
    inner: int | None = None


def encode_cursor(subject: str, position: SyncPosition) -> str:
    """A position in one subject's stream, tagged with that subject's chain."""
    value = str(position.seq) if position.inner is None else f"{position.seq}.{position.inner}"
    return base64.urlsafe_b64encode(f"seq:{value}:{_chain_tag(subject)}".encode()).decode()


def decode_cursor(cursor: str | None, subject: str) -> SyncPosition:
    """The position a cursor names in ``subject``'s stream. A cursor of another chain (a
    phone that synced anonymously, then signs in and sends its old cursor again) starts
    over from the beginning rather than skip the account's first events."""
    if not cursor:
        return SyncPosition(0)
    try:
        kind, _, rest = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        value, _, tag = rest.partition(":")
        seq, dot, inner = value.partition(".")
        if kind == "seq" and seq.isdigit() and (not dot or inner.isdigit()) and tag:
            if tag != _chain_tag(subject):
                return SyncPosition(0)
            return SyncPosition(int(seq), int(inner) if dot else None)
    except (ValueError, UnicodeDecodeError):
        pass
    raise DomainError(ConsentErrorCode.INVALID, "since", "not a cursor this server issued")


@dataclass
class SyncResult:
    results: list[Judged]
    events: list[ConsentEvent] = field(default_factory=list)
    cursor: str = ""
    has_more: bool = False
    #: The server's clock as it answered, for a client to see how far off its own is.
    server_time: datetime = field(default_factory=lambda: clock.now())
    #: The subjects whose decisions make the state (the account's and its linked devices').
    subjects: list[str] = field(default_factory=list)
    _superseded: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _marked: bool = field(default=False, repr=False)

    async def mark_superseded(self) -> None:
        """Set ``superseded`` on the results, once, when first asked: it costs a query over
        the subject's decisions, which a client that does not ask for it need not pay."""
        async with self._superseded:
            if not self._marked:
                await _mark_superseded(self.subjects, self.results)
                self._marked = True


#: A UUID in its canonical text form (what ``str(uuid.UUID(...))`` writes), lower case.
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _valid_key(key: str) -> bool:
    return CANONICAL_UUID.fullmatch(key) is not None


async def sync(
    subject: str,
    settings: Settings,
    *,
    device_id: str,
    requests: list[Requested | Malformed],
    since: str | None,
    user_agent: str = "",
    client_address: str = "",
) -> SyncResult:
    """Store a batch from an offline client, each event judged on its own, and return what
    other devices recorded since the client's cursor.

    Results are in the batch's order. An event whose key the ledger already holds is a
    DUPLICATE when it is the same decision (a retry: nothing is stored twice) and a
    CONFLICT when it is another, whatever the rules would say of it now. An accepted event
    that a decision with a later client time already overrides is marked ``superseded``
    (``SyncResult.mark_superseded``).
    The cursor is the subject's chain position, which only grows in commit order.
    """
    if len(requests) > settings.consent_sync_max_events:
        raise DomainError(
            ConsentErrorCode.TOO_MANY_EVENTS,
            "events",
            f"at most {settings.consent_sync_max_events} events per call",
        )
    position = decode_cursor(since, subject)
    catalogue = await _Catalogue.load(
        {r.policy_version for r in requests if isinstance(r, Requested)}
    )
    judged: list[Judged] = []
    first: dict[str, Judged] = {}  # the first acceptable event of each key
    for index, request in enumerate(requests):
        sent = request.idempotency_key
        key = sent.lower()
        if isinstance(request, Malformed) or not _valid_key(key):
            judged.append(Judged(key, SyncStatus.REJECTED, ConsentErrorCode.INVALID, sent, index))
            continue
        request.idempotency_key = key
        problem = catalogue.problem(request, settings)
        verdict = Judged(
            key,
            SyncStatus.REJECTED if problem else SyncStatus.ACCEPTED,
            problem,
            sent,
            index,
            event=_event(request, device_id),
        )
        judged.append(verdict)
        if problem is None:
            first.setdefault(key, verdict)
    account_id = subject_account_id(subject)
    subjects = await subjects_of(account_id) if account_id is not None else [subject]
    # The account's history includes its linked devices' chains: a batch first sent
    # anonymously and retried after sign-in is not stored a second time.
    held = await _held(subjects[1:], list(first)) if first and len(subjects) > 1 else {}
    fresh = [v.event for k, v in first.items() if k not in held and v.event is not None]
    appended = await _append(
        subject, fresh, user_agent=user_agent, client_address=client_address, reload=False
    )
    stored = {e.idempotency_key for e in appended.stored}
    # What each key stands for in the ledger now: read only for keys this call did not
    # store (a retry, a reused key, or a rejected event the ledger holds from before).
    unread = {v.key for v in judged if v.event is not None and v.key not in stored} - set(held)
    held.update(await _held(subjects, sorted(unread)) if unread else {})
    standing = dict(held)
    for key in stored:
        stored_event = first[key].event
        if stored_event is not None:
            standing[key] = content_digest(stored_event)
    for verdict in judged:
        if verdict.event is None or verdict.key not in standing:
            continue
        if verdict is first.get(verdict.key) and verdict.key in stored:
            continue  # ACCEPTED: this call stored it
        same = standing[verdict.key] == content_digest(verdict.event)
        verdict.status = SyncStatus.DUPLICATE if same else SyncStatus.CONFLICT
        verdict.code = None if same else ConsentErrorCode.CONFLICT
    answer = await _since(subject, device_id, position, judged, settings)
    answer.subjects = subjects
    return answer


async def _held(subjects: list[str], keys: list[str]) -> dict[str, str]:
    """The content digest of each of ``keys`` these subjects' chains already hold."""
    rows = await ConsentEvent.filter(subject__in=subjects, idempotency_key__in=keys)
    return {row.idempotency_key: content_digest(row) for row in rows}


async def _mark_superseded(subjects: list[str], judged: list[Judged]) -> None:
    """Mark each ACCEPTED or DUPLICATE event that is not its purpose's latest decision
    (by client time, ties: server order), the rule ``current_consents`` reads state by: a
    withdrawal from a phone whose clock is slow, sent after another device's grant, is
    stored but changes nothing, and the client is told so."""
    kept = [
        v
        for v in judged
        if v.status in (SyncStatus.ACCEPTED, SyncStatus.DUPLICATE) and v.event is not None
    ]
    if not kept:
        return
    events = [v.event for v in kept if v.event is not None]
    latest = await latest_decisions(
        subjects,
        purposes={e.purpose_code for e in events if e.purpose_code},
        not_before=min(e.client_timestamp for e in events),
    )
    for verdict in kept:
        assert verdict.event is not None  # kept only with one
        winner = latest.get(verdict.event.purpose_code or "")
        verdict.superseded = winner is not None and winner.idempotency_key != verdict.key


async def _since(
    subject: str, device_id: str, since: SyncPosition, judged: list[Judged], settings: Settings
) -> SyncResult:
    """What other devices recorded in the subject's stream after ``since``, at most
    ``consent_sync_max_events`` of it.

    The stream is the subject's chain; where the chain records that a device was linked to
    the account, that device's history from before its sign-in (its own chain, which stops
    growing at the link) follows the link event, as it is part of the account's state from
    then on. The caller's own events, and its own history, are not sent back.

    The head is read first and the rows are bounded by it: a head committed at ``n`` means
    events 1..n are committed (same transaction), so nothing up to the cursor is skipped even
    when another writer commits between the two reads.
    """
    page = _Page(settings.consent_sync_max_events)

    def answer(position: SyncPosition, *, has_more: bool) -> SyncResult:
        return SyncResult(judged, page.events, encode_cursor(subject, position), has_more)

    head = await ConsentChain.get_or_none(subject=subject)
    head_seq = head.seq if head else since.seq
    position = since
    if since.inner is not None:  # part-way through a linked device's history
        link = await ConsentEvent.get_or_none(subject=subject, seq=since.seq)
        if link is not None and link.device_id:
            position = await page.expand(link, after=since.inner)
            if position.inner is not None:
                return answer(position, has_more=True)
        position = SyncPosition(since.seq)
    rows = (
        await ConsentEvent.filter(subject=subject, seq__gt=position.seq, seq__lte=head_seq)
        .filter(
            Q(device_ref__isnull=True) | ~Q(device_ref=await blind_index(DEVICE_INDEX, device_id))
        )
        .order_by("seq")
        .limit(page.room + 1)
    )
    for row in rows:
        if page.room == 0:
            return answer(position, has_more=True)
        page.events.append(row)
        position = SyncPosition(row.seq)
        if row.kind == EventKind.DEVICE_LINKED and row.device_id:
            position = await page.expand(row, after=0)
            if position.inner is not None:
                return answer(position, has_more=True)
    return answer(SyncPosition(head_seq), has_more=False)


class _Page:
    """The events one sync answer carries, up to its limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.events: list[ConsentEvent] = []

    @property
    def room(self) -> int:
        return self.limit - len(self.events)

    async def expand(self, link: ConsentEvent, *, after: int) -> SyncPosition:
        """Add the linked device's history after ``after``, as far as there is room; the
        position reached (``inner`` None when all of it fits)."""
        if link.device_id is None:  # a link names its device; without one, no history
            return SyncPosition(link.seq)
        rows = (
            await ConsentEvent.filter(subject=device_subject(link.device_id), seq__gt=after)
            .order_by("seq")
            .limit(self.room + 1)
        )
        taken = rows[: self.room]
        self.events.extend(taken)
        if len(rows) > len(taken):
            return SyncPosition(link.seq, taken[-1].seq if taken else after)
        return SyncPosition(link.seq)


# --- linking and state ---------------------------------------------------------------------


async def link_device(
    device_id: str,
    account: Account,
    *,
    source: Source,
    user_agent: str = "",
    client_address: str = "",
) -> bool:
    """Give an anonymous device's history to the account signing in on it (once).

    The device's chain stays as it is; the account's chain records the link, so the link
    itself is tamper-evident. From then on the two histories are read together, and the
    latest client timestamp decides (ties: server order).
    """
    ref = device_ref(device_id)
    if await DeviceLink.filter(device_id=ref).exists():
        return False
    if not await ConsentEvent.filter(subject=device_subject(device_id)).exists():
        return False
    try:
        # One transaction: a link never exists without its ledger event, nor the reverse.
        async with in_transaction("default"):
            await DeviceLink.create(device_id=ref, account=account)
            await _append(
                account_subject(account.id),
                [
                    NewEvent(
                        kind=EventKind.DEVICE_LINKED,
                        source=source,
                        idempotency_key=new_key(),
                        client_timestamp=clock.now(),
                        device_id=device_id,
                    )
                ],
                user_agent=user_agent,
                client_address=client_address,
            )
    except IntegrityError:  # linked by a concurrent sign-in on the same device
        return False
    return True


@dataclass
class Consent:
    purpose: Purpose
    granted: bool
    event: ConsentEvent | None


async def current_consents(subjects: list[str]) -> list[Consent]:
    """One row per purpose. Undecided: granted only if the purpose is required."""
    purposes = await Purpose.all()
    latest = await latest_decisions(subjects)
    rows = []
    for purpose in purposes:
        event = latest.get(purpose.code)
        granted = purpose.required or (event is not None and event.kind == EventKind.GRANTED)
        rows.append(Consent(purpose, granted, event))
    return rows


async def requires_reconsent(subjects: list[str]) -> bool:
    """True while a material version is in effect that these subjects have not accepted
    (accepting any later version counts)."""
    material = await material_in_effect()
    if material is None:
        return False
    later = cast(
        "list[str]",  # Tortoise types flat values_list as tuples
        await PolicyVersion.filter(published_at__gte=material.published_at).values_list(
            "version", flat=True
        ),
    )
    return not await has_accepted(subjects, later)


async def history(subjects: list[str], first: int, after_id: int | None) -> list[ConsentEvent]:
    """Newest first (server order); ``first + 1`` rows so the caller knows if more exist."""
    query = ConsentEvent.filter(subject__in=subjects)
    if after_id is not None:
        query = query.filter(id__lt=after_id)
    return await query.order_by("-id").limit(first + 1)


async def last_accepted(subjects: list[str]) -> PolicyVersion | None:
    """The version these subjects accepted most recently (``accept_policy``), or None."""
    event = (
        await ConsentEvent.filter(subject__in=subjects, kind=EventKind.POLICY_ACCEPTED)
        .order_by("-id")
        .first()
    )
    if event is None or event.policy_version is None:
        return None
    return await PolicyVersion.get_or_none(version=event.policy_version)


async def material_changes_since(accepted: PolicyVersion | None) -> list[PolicyVersion]:
    """The material versions in effect published after ``accepted`` (every one when
    nothing was accepted), newest first: what changed since the user last said yes, as the
    privacy center lists it beside ``requires_reconsent``."""
    query = PolicyVersion.filter(material=True, effective_at__lte=clock.now())
    if accepted is not None:
        query = query.filter(published_at__gt=accepted.published_at)
    return await query.order_by("-effective_at", "-id")
