"""The one map of personal data: where it lives, why, for how long, and how it is erased and
exported (issue 16; GDPR Art 30's record of processing, Fides' data map).

Every Tortoise model is in exactly one of two places: ``DATA_MAP`` (one ``PersonalData`` entry
per model that holds personal data) or ``NO_PERSONAL_DATA`` (the table name and why it holds
none); ``tests/test_data_map.py`` fails for a model in neither. Account deletion
(``models.rights.deletion``) takes its plain deletes and the staff-link anonymising from
here, the erasure of selected rows a user asks for (``requestErasure``) runs the same code
per kind, and the ``dataMap`` query publishes this declaration as it stands.

What a user may ask staff to change is declared here too: ``correctable`` names the fields a
correction request may name (with the text rule the new value meets), and
``erasable_on_request`` the kinds an erasure request may name. Hashes, ids, timestamps and
consent records are never correctable (the ledger is append-only), and the account itself,
consent records and what the law makes Accord keep are never erased on request
(``erasure_refusal`` says why, in words the user reads).

How a subject's rows are found: ``account_field`` (a lookup from the row to the account id,
e.g. ``account_id`` or ``thread__account_id``), ``device_field`` (the row's device id, matched
against the account's devices and linked devices) and ``subject_field`` (the consent ledger's
subject, ``models.consent.ledger.subjects_of``). ``staff_field`` names the staff account that
acted on a row (an assignee, an author): when that staff account is deleted it becomes NULL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tortoise.models import Model

from models.accounts.account import Account
from models.accounts.bindings import Binding, PasswordReset
from models.accounts.contacts import ContactVerification
from models.accounts.passkeys import Passkey, WebAuthnChallenge, WebAuthnUser
from models.accounts.quarantine import AccountNameQuarantine
from models.accounts.recovery_codes import RecoveryCode
from models.accounts.sessions import Session
from models.accounts.sign_in_challenges import SignInChallenge
from models.accounts.sign_ins import KnownSignIn, SignInNotice
from models.accounts.totp import TotpCredential
from models.consent.guardians import GuardianConsentRequest
from models.consent.ledger import ConsentChain, ConsentEvent, DeviceLink
from models.consent.policies import PolicyVersion
from models.consent.purposes import LegalBasis
from models.notifications.campaigns import CampaignAudience
from models.notifications.inbox import Notification
from models.personal import favorites, feedback, support
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.devices import Device
from models.personal.error_reports import ErrorReport
from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from models.personal.questionnaires import QuestionnaireAnswer
from models.personal.support import SupportMessage, SupportThread
from models.rights.audit import StaffAuditEntry
from models.rights.exports import DataExport
from models.rights.requests import DataRequest, DeletionRequest, IdentityCheck
from models.webhooks.endpoints import ConsentWebhook
from models.webhooks.outbox import WebhookDelivery


class DataCategory(StrEnum):
    IDENTITY = "IDENTITY"
    CONTACT = "CONTACT"
    CREDENTIALS = "CREDENTIALS"
    ONLINE_IDENTIFIERS = "ONLINE_IDENTIFIERS"
    DEVICE = "DEVICE"
    ACTIVITY = "ACTIVITY"
    USER_CONTENT = "USER_CONTENT"
    COMMUNICATIONS = "COMMUNICATIONS"
    CONSENT_RECORDS = "CONSENT_RECORDS"
    SECURITY = "SECURITY"
    STAFF_RECORDS = "STAFF_RECORDS"


class Erasure(StrEnum):
    """What account deletion does with the subject's rows."""

    DELETE = "DELETE"
    #: The row stays, its personal fields become what ``anonymised`` says.
    ANONYMISE = "ANONYMISE"
    #: The consent history moves to a random pseudonym (``rekey_subject``).
    PSEUDONYMISE = "PSEUDONYMISE"
    #: The account row stays as a tombstone, every personal field erased.
    KEEP_AS_TOMBSTONE = "KEEP_AS_TOMBSTONE"
    #: Written by the deletion itself and deleted when its retention ends.
    KEPT_UNTIL_EXPIRY = "KEPT_UNTIL_EXPIRY"
    #: Kept unchanged as a record the service is accountable by; it names the subject only
    #: by the account's id, which after deletion is a tombstone's.
    KEEP_AS_RECORD = "KEEP_AS_RECORD"


class Export(StrEnum):
    EXPORT = "EXPORT"
    NOT_EXPORTED = "NOT_EXPORTED"


class Step(StrEnum):
    """The steps of ``run_deletion``, in order; ``DeletionRequest.step`` stores their names."""

    #: First what outlives the account, per setting (PUBLIC feedback, a retained support
    #: thread): anonymised and sealed again under the deployment's kept-content key while
    #: the account's key can still open it; the rest of both goes.
    FEEDBACK = "feedback"
    SUPPORT = "support"
    #: Then, in its own transaction: the account's data keys (and its devices') are
    #: destroyed (``models.keys.data_keys.destroy``), so every copy of what they encrypted
    #: is unreadable from then on, backups included.
    DATA_KEYS = "data_keys"
    SESSIONS = "sessions"
    DEVICES_AND_ACTIVITY = "devices_and_activity"
    FAVORITES_AND_ANSWERS = "favorites_and_answers"
    PICTURES = "pictures"
    NOTIFICATIONS = "notifications"
    CONSENT = "consent"
    TOMBSTONE = "tombstone"


NECESSARY = ("necessary",)


@dataclass(frozen=True)
class Correctable:
    """A field a user may ask staff to correct, and the rule its new value meets
    (``models.text.clean_text``), the same as when the user first wrote it."""

    field: str
    limit: int
    multiline: bool = False
    required: bool = True


@dataclass(frozen=True)
class PersonalData:
    kind: str
    model: type[Model]
    #: The fields that hold personal data (ids and timestamps only where they identify).
    fields: tuple[str, ...]
    categories: tuple[DataCategory, ...]
    #: Consent purpose codes (``models.consent.purposes``).
    purposes: tuple[str, ...]
    legal_basis: LegalBasis
    retention: str
    #: The setting (``accord.settings.Settings``) that governs the retention, if one does.
    retention_setting: str | None
    erasure: Erasure
    #: The deletion step that erases it.
    step: Step
    export: Export
    #: Why it is not exported (or what of it is), in plain words.
    export_note: str = ""
    #: Fields an export leaves out although they are personal: hashes and secrets, which
    #: tell the user nothing or would hand over a credential (``export_note`` says why).
    not_exported: tuple[str, ...] = ()
    account_field: str | None = None
    device_field: str | None = None
    subject_field: str | None = None
    staff_field: str | None = None
    #: ANONYMISE / KEEP_AS_TOMBSTONE: field -> what it becomes, in words.
    anonymised: dict[str, str] = field(default_factory=dict)
    #: Anything the erasure does beyond its method, in words (e.g. a setting's choice).
    erasure_note: str = ""
    #: The fields a correction request may name (``requestCorrection``).
    correctable: tuple[Correctable, ...] = ()
    #: Whether an erasure request may name this kind (``requestErasure``); see
    #: ``erasure_refusal`` for what never may.
    erasable_on_request: bool = False
    #: How users change it themselves, when they can (named when a correction is refused).
    self_service: str = ""

    @property
    def table(self) -> str:
        return str(self.model._meta.db_table)

    @property
    def found_by(self) -> tuple[str, ...]:
        links = [
            (self.account_field, "account"),
            (self.device_field, "device ids of the account's devices and linked devices"),
            (self.subject_field, "consent subjects of the account and its linked devices"),
            (self.staff_field, "the staff account that acted"),
        ]
        return tuple(f"{name}: {what}" for name, what in links if name)

    @property
    def exported_fields(self) -> tuple[str, ...]:
        """What an export of the subject's rows holds of each row (``models.rights.archive``)."""
        if self.export != Export.EXPORT:
            return ()
        return tuple(name for name in self.fields if name not in self.not_exported)

    @property
    def export_columns(self) -> tuple[str, ...]:
        """Each exported row's columns: its primary key, then its exported fields."""
        if self.export != Export.EXPORT:
            return ()
        key = str(self.model._meta.pk_attr)
        return (key, *(name for name in self.exported_fields if name != key))

    @property
    def plain_delete(self) -> bool:
        """Deleted by the generic step: every row found through the account or its devices."""
        return self.erasure == Erasure.DELETE and (
            self.account_field is not None or self.device_field is not None
        )

    def correctable_field(self, name: str) -> Correctable | None:
        return next((c for c in self.correctable if c.field == name), None)

    def erasure_refusal(self) -> str | None:
        """Why an erasure request may not name this kind, in words for the user; None when
        it may."""
        if self.model is Account:
            return "the account itself is deleted with cancelAccount, with everything in it"
        if DataCategory.CONSENT_RECORDS in self.categories:
            return (
                "consent records prove what you decided and stay; withdraw a consent instead "
                "(withdrawing activity_log erases your search and click records)"
            )
        if self.legal_basis == LegalBasis.LEGAL_OBLIGATION:
            return f"kept because the law requires it: {self.retention}"
        if not self.erasable_on_request or self.erasure not in (Erasure.DELETE, Erasure.ANONYMISE):
            return "managed by its own operations (sign-in methods, sessions, security records)"
        return None


SECURITY_LOG = "Kept while the account exists; expired rows are swept."
HASHED = "only a hash is stored, which tells the user nothing"

DATA_MAP: tuple[PersonalData, ...] = (
    PersonalData(
        "Account",
        Account,
        (
            "account_name",
            "nickname",
            "avatar_url",
            "gender",
            "region",
            "signature",
            "birth_year",
            "minor",
            "minor_basis",
            "guardian_consented_at",
            "email",
            "phone",
            "password_hash",
            "role",
            "created_at",
            "account_name_index",
            "email_index",
            "phone_index",
        ),
        (DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.CREDENTIALS),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists; a tombstone without personal data afterwards.",
        None,
        Erasure.KEEP_AS_TOMBSTONE,
        Step.TOMBSTONE,
        Export.EXPORT,
        "the password is stored only as a hash, and the name, e-mail and phone are found by "
        "keyed hashes of them (blind indexes); these tell the user nothing",
        not_exported=("password_hash", "account_name_index", "email_index", "phone_index"),
        account_field="id",
        self_service="updateProfile (and the contact operations for e-mail and phone)",
        anonymised={
            "account_name": "deleted-<id> (the name kept only as a keyed hash in quarantine)",
            "nickname": "''",
            "avatar_url": "NULL",
            "gender": "UNDISCLOSED",
            "region": "NULL",
            "signature": "''",
            "birth_year": "NULL",
            "minor": "false",
            "minor_basis": "NULL",
            "guardian_consented_at": "NULL",
            "email": "NULL",
            "phone": "NULL",
            "password_hash": "NULL",
            "role": "USER",
            "account_name_index": "NULL",
            "email_index": "NULL",
            "phone_index": "NULL",
        },
    ),
    PersonalData(
        "Session",
        Session,
        ("token_hash", "created_at", "authenticated_at", "last_seen_at", "user_agent", "network"),
        (DataCategory.ONLINE_IDENTIFIERS, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the session ends (idle or absolute timeout).",
        "session_absolute_timeout",
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "a session's token is stored only as a hash, which tells the user nothing",
        not_exported=("token_hash",),
        account_field="account_id",
    ),
    PersonalData(
        "KnownSignIn",
        KnownSignIn,
        ("kind", "value_hash", "first_seen_at", "last_seen_at"),
        (DataCategory.ONLINE_IDENTIFIERS, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.LEGITIMATE_INTEREST,
        SECURITY_LOG,
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "whether a device or a network, and when it was first and last seen; which one is "
        "stored only as a keyed hash, which tells the user nothing",
        not_exported=("value_hash",),
        account_field="account_id",
    ),
    PersonalData(
        "SignInNotice",
        SignInNotice,
        ("session_id", "token_hash", "created_at", "device_hash", "network_hash"),
        (DataCategory.ONLINE_IDENTIFIERS, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.LEGITIMATE_INTEREST,
        "Until the notice's link expires.",
        "sign_in_notice_ttl",
        Erasure.DELETE,
        Step.SESSIONS,
        Export.NOT_EXPORTED,
        "a short-lived security link; " + HASHED,
        account_field="account_id",
    ),
    PersonalData(
        "PasswordReset",
        PasswordReset,
        ("token_hash", "created_at"),
        (DataCategory.CREDENTIALS,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the reset link expires.",
        "password_reset_ttl",
        Erasure.DELETE,
        Step.SESSIONS,
        Export.NOT_EXPORTED,
        "a short-lived reset link; " + HASHED,
        account_field="account_id",
    ),
    PersonalData(
        "Binding",
        Binding,
        ("provider", "subject", "nickname", "avatar_url", "bound_at", "subject_index"),
        (DataCategory.IDENTITY, DataCategory.ONLINE_IDENTIFIERS),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the binding exists.",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "the provider's subject is found by a keyed hash of it (a blind index), which tells "
        "the user nothing",
        not_exported=("subject_index",),
        account_field="account_id",
    ),
    PersonalData(
        "ContactVerification",
        ContactVerification,
        ("channel", "address", "address_key", "code_hash", "created_at", "consumed_at"),
        (DataCategory.CONTACT, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists.",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "a code is stored only as a hash, and the address is counted by a keyed hash of it "
        "(a blind index); these tell the user nothing",
        not_exported=("code_hash", "address_key"),
        account_field="account_id",
    ),
    PersonalData(
        "GuardianConsentRequest",
        GuardianConsentRequest,
        (
            "purpose",
            "guardian_email",
            "guardian_email_key",
            "code_hash",
            "status",
            "created_at",
            "expires_at",
            "consumed_at",
        ),
        (DataCategory.CONTACT, DataCategory.CONSENT_RECORDS),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "While the account exists: how a guardian's consent was asked and given (the consent "
        "itself is in the consent ledger).",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "the guardian's address is the guardian's own data, sealed under your key and shown "
        "back only masked; a code is stored only as a hash, and the address is counted by a "
        "keyed hash of it (a blind index), which tell you nothing",
        not_exported=("guardian_email", "guardian_email_key", "code_hash"),
        account_field="account_id",
    ),
    PersonalData(
        "Passkey",
        Passkey,
        (
            "credential_id",
            "public_key",
            "aaguid",
            "name",
            "transports",
            "created_at",
            "last_used_at",
        ),
        (DataCategory.CREDENTIALS, DataCategory.DEVICE),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the user removes it.",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        account_field="account_id",
    ),
    PersonalData(
        "WebAuthnUser",
        WebAuthnUser,
        ("handle",),
        (DataCategory.ONLINE_IDENTIFIERS,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists.",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        account_field="account_id",
    ),
    PersonalData(
        "WebAuthnChallenge",
        WebAuthnChallenge,
        ("challenge", "created_at"),
        (DataCategory.SECURITY,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the challenge expires.",
        "webauthn_challenge_ttl",
        Erasure.DELETE,
        Step.SESSIONS,
        Export.NOT_EXPORTED,
        "a one-time random challenge that lives minutes",
        account_field="account_id",
    ),
    PersonalData(
        "TotpCredential",
        TotpCredential,
        ("secret", "created_at", "confirmed_at"),
        (DataCategory.CREDENTIALS,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the user removes the authenticator.",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "when it was added and confirmed; never the secret, which would hand over the "
        "second factor",
        not_exported=("secret",),
        account_field="account_id",
    ),
    PersonalData(
        "RecoveryCode",
        RecoveryCode,
        ("code_hash", "created_at", "used_at"),
        (DataCategory.CREDENTIALS,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until used or replaced.",
        None,
        Erasure.DELETE,
        Step.SESSIONS,
        Export.EXPORT,
        "when each was made and used; the codes are stored only as hashes, which tell the "
        "user nothing",
        not_exported=("code_hash",),
        account_field="account_id",
    ),
    PersonalData(
        "SignInChallenge",
        SignInChallenge,
        ("token_hash", "first_factor", "created_at"),
        (DataCategory.SECURITY,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the challenge expires.",
        "sign_in_challenge_ttl",
        Erasure.DELETE,
        Step.SESSIONS,
        Export.NOT_EXPORTED,
        "a half-finished sign-in that lives minutes; " + HASHED,
        account_field="account_id",
    ),
    PersonalData(
        "SearchRecord",
        SearchRecord,
        ("device_id", "keywords", "client_address", "user_agent", "recorded_at"),
        (DataCategory.ACTIVITY, DataCategory.ONLINE_IDENTIFIERS),
        ("activity_log",),
        LegalBasis.CONSENT,
        "Days after recording.",
        "activity_retention_days",
        Erasure.DELETE,
        Step.DEVICES_AND_ACTIVITY,
        Export.EXPORT,
        account_field="account_id",
        device_field="device_id",
        erasable_on_request=True,
    ),
    PersonalData(
        "ClickRecord",
        ClickRecord,
        ("device_id", "link", "client_address", "user_agent", "recorded_at"),
        (DataCategory.ACTIVITY, DataCategory.ONLINE_IDENTIFIERS),
        ("activity_log",),
        LegalBasis.CONSENT,
        "Days after recording.",
        "activity_retention_days",
        Erasure.DELETE,
        Step.DEVICES_AND_ACTIVITY,
        Export.EXPORT,
        account_field="account_id",
        device_field="device_id",
        erasable_on_request=True,
    ),
    PersonalData(
        "ErrorReport",
        ErrorReport,
        (
            "device_id",
            "message",
            "stack",
            "device_config",
            "app_version",
            "client_address",
            "created_at",
        ),
        (DataCategory.DEVICE, DataCategory.ONLINE_IDENTIFIERS),
        NECESSARY,
        LegalBasis.LEGITIMATE_INTEREST,
        "While the account or device exists.",
        None,
        Erasure.DELETE,
        Step.DEVICES_AND_ACTIVITY,
        Export.EXPORT,
        account_field="account_id",
        device_field="device_id",
        erasable_on_request=True,
    ),
    PersonalData(
        "Device",
        Device,
        (
            "device_id",
            "platform",
            "model",
            "os_version",
            "app_version",
            "registered_at",
            "last_seen_at",
        ),
        (DataCategory.DEVICE, DataCategory.ONLINE_IDENTIFIERS),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists.",
        None,
        Erasure.DELETE,
        Step.DEVICES_AND_ACTIVITY,
        Export.EXPORT,
        account_field="account_id",
        erasable_on_request=True,
    ),
    PersonalData(
        "Favorite",
        Favorite,
        ("item_type", "item_id", "note", "created_at", "item_index"),
        (DataCategory.USER_CONTENT,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the user removes it.",
        None,
        Erasure.DELETE,
        Step.FAVORITES_AND_ANSWERS,
        Export.EXPORT,
        "the item is found by a keyed hash of it (a blind index), which tells the user nothing",
        account_field="account_id",
        not_exported=("item_index",),
        correctable=(Correctable("note", favorites.NOTE_MAX, multiline=True, required=False),),
        erasable_on_request=True,
    ),
    PersonalData(
        "QuestionnaireAnswer",
        QuestionnaireAnswer,
        ("answers", "answered_at"),
        (DataCategory.USER_CONTENT,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists.",
        None,
        Erasure.DELETE,
        Step.FAVORITES_AND_ANSWERS,
        Export.EXPORT,
        account_field="account_id",
        erasable_on_request=True,
    ),
    PersonalData(
        "Picture",
        Picture,
        ("storage_key", "content_type", "width", "height", "size", "created_at"),
        (DataCategory.USER_CONTENT,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "Until the user removes it.",
        None,
        Erasure.DELETE,
        Step.PICTURES,
        Export.EXPORT,
        "the rows and the image files",
        account_field="owner_id",
        erasure_note="one picture at a time, the file before the row",
        erasable_on_request=True,
    ),
    PersonalData(
        "Feedback",
        Feedback,
        ("subject", "body", "rating", "kind", "visibility", "created_at", "subject_index"),
        (DataCategory.USER_CONTENT,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists; PUBLIC feedback per setting after deletion.",
        "public_feedback_on_deletion",
        Erasure.ANONYMISE,
        Step.FEEDBACK,
        Export.EXPORT,
        "the product is found by a keyed hash of it (a blind index), which tells the user nothing",
        account_field="author_id",
        not_exported=("subject_index",),
        anonymised={"author_id": "NULL (shown as by 'deleted user')"},
        erasure_note="PRIVATE feedback is deleted; PUBLIC feedback is anonymised, or deleted "
        "when public_feedback_on_deletion is 'delete'",
        correctable=(
            Correctable("subject", feedback.SUBJECT_MAX),
            Correctable("body", feedback.BODY_MAX, multiline=True),
        ),
        erasable_on_request=True,
    ),
    PersonalData(
        "SupportThread",
        SupportThread,
        ("subject", "order_ref", "status", "created_at"),
        (DataCategory.COMMUNICATIONS,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists; kept without the account after deletion when configured.",
        "retain_support_threads",
        Erasure.DELETE,
        Step.SUPPORT,
        Export.EXPORT,
        account_field="account_id",
        staff_field="assignee_id",
        anonymised={"account_id": "NULL (retain_support_threads)", "assignee_id": "NULL"},
        erasure_note="deleted; with retain_support_threads the thread stays without its "
        "messages and without the account",
        correctable=(
            Correctable("subject", support.SUBJECT_MAX),
            Correctable("order_ref", support.ORDER_REF_MAX, required=False),
        ),
        erasable_on_request=True,
    ),
    PersonalData(
        "SupportMessage",
        SupportMessage,
        ("body", "from_staff", "created_at"),
        (DataCategory.COMMUNICATIONS,),
        NECESSARY,
        LegalBasis.CONTRACT,
        "With its thread.",
        "retain_support_threads",
        Erasure.DELETE,
        Step.SUPPORT,
        Export.EXPORT,
        account_field="thread__account_id",
        staff_field="staff_id",
        anonymised={"staff_id": "NULL"},
        correctable=(Correctable("body", support.MESSAGE_MAX, multiline=True),),
        erasable_on_request=True,
    ),
    PersonalData(
        "StaffAuditEntry",
        StaffAuditEntry,
        (
            "staff_id",
            "staff_role",
            "action",
            "subject_id",
            "resource",
            "resource_id",
            "reason",
            "at",
        ),
        (DataCategory.STAFF_RECORDS,),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "Kept: the hash-chained record of which staff read or changed whose data, and why.",
        None,
        Erasure.KEEP_AS_RECORD,
        Step.TOMBSTONE,
        Export.EXPORT,
        "which staff read or changed what of the user's data, when and why",
        account_field="subject_id",
        erasure_note="kept unchanged so the chain verifies: subject_id and staff_id become "
        "the ids of tombstones that name nobody; nothing else in an entry is the subject's",
    ),
    PersonalData(
        "PolicyVersion",
        PolicyVersion,
        ("published_by_id",),
        (DataCategory.STAFF_RECORDS,),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "The policy stays published; its publisher is kept while their account exists.",
        None,
        Erasure.ANONYMISE,
        Step.SUPPORT,
        Export.NOT_EXPORTED,
        "only staff publish policies; the policy text is public",
        staff_field="published_by_id",
        anonymised={"published_by_id": "NULL"},
    ),
    PersonalData(
        "ConsentWebhook",
        ConsentWebhook,
        ("created_by",),
        (DataCategory.STAFF_RECORDS,),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "The endpoint stays registered; who registered it is kept while their account exists "
        "(and in the staff audit log).",
        None,
        Erasure.ANONYMISE,
        Step.SUPPORT,
        Export.NOT_EXPORTED,
        "only staff register processors' endpoints; the endpoint names no user",
        staff_field="created_by",
        anonymised={"created_by": "NULL"},
    ),
    PersonalData(
        "WebhookDelivery",
        WebhookDelivery,
        ("subject", "subject_key", "purpose_code", "payload", "created_at", "delivered_at"),
        (DataCategory.CONSENT_RECORDS,),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "Kept as the record of which processor was told of which consent change, and when; "
        "under the consent history's pseudonym after deletion.",
        None,
        Erasure.PSEUDONYMISE,
        Step.CONSENT,
        Export.NOT_EXPORTED,
        "each delivery repeats a consent event the export holds (with its processor's "
        "pseudonymous subject id, a keyed hash that tells the user nothing)",
        subject_field="subject",
        anonymised={"subject": "the consent history's pseudonym (only where it was sent)"},
        erasure_note="renamed with the consent chain (rekey_subject, models.webhooks.outbox)",
    ),
    PersonalData(
        "Notification",
        Notification,
        ("kind", "channel", "title", "body", "address", "created_at", "sent_at", "read_at"),
        (DataCategory.COMMUNICATIONS, DataCategory.CONTACT),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists.",
        None,
        Erasure.DELETE,
        Step.NOTIFICATIONS,
        Export.EXPORT,
        account_field="account_id",
        erasure_note="the tombstone step then writes one row: the erasure receipt to the "
        "verified address, read before the account's is erased; the sender deletes that row, "
        "address and all, once sent or given up on (GONE_ONCE_SENT), and the receipt itself "
        "names no personal data",
        erasable_on_request=True,
    ),
    PersonalData(
        "CampaignAudience",
        CampaignAudience,
        ("campaign_id",),
        (DataCategory.COMMUNICATIONS, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "With its campaign.",
        None,
        Erasure.DELETE,
        Step.NOTIFICATIONS,
        Export.EXPORT,
        "which listed campaigns (e.g. a security incident) reached the user",
        account_field="account_id",
    ),
    PersonalData(
        "ConsentEvent",
        ConsentEvent,
        (
            "subject",
            "seq",
            "purpose_code",
            "policy_version",
            "kind",
            "source",
            "device_id",
            "client_timestamp",
            "server_timestamp",
            "idempotency_key",
            "user_agent",
            "client_address",
            "detail",
            "prev_hash",
            "hash",
            "device_ref",
        ),
        (DataCategory.CONSENT_RECORDS, DataCategory.ONLINE_IDENTIFIERS),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "For as long as the service must prove consent; under a pseudonym after deletion.",
        None,
        Erasure.PSEUDONYMISE,
        Step.CONSENT,
        Export.EXPORT,
        "every event with its hashes and every field they are computed from, so the user "
        "can verify the chain; not the device's blind index, which tells the user nothing",
        subject_field="subject",
        not_exported=("device_ref",),
        anonymised={
            "subject": "a random pseudonym",
            "device_id": "NULL",
            "device_ref": "NULL",
            "user_agent": "''",
            "client_address": "''",
        },
        erasure_note="the chain is rebuilt under the pseudonym (rekey_subject)",
    ),
    PersonalData(
        "ConsentChain",
        ConsentChain,
        ("subject", "hash"),
        (DataCategory.CONSENT_RECORDS,),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "With the consent history.",
        None,
        Erasure.PSEUDONYMISE,
        Step.CONSENT,
        Export.EXPORT,
        "the chain head (last hash) of each of the user's subjects",
        subject_field="subject",
        anonymised={"subject": "a random pseudonym"},
    ),
    PersonalData(
        "DeviceLink",
        DeviceLink,
        ("device_id", "linked_at"),
        (DataCategory.DEVICE, DataCategory.ONLINE_IDENTIFIERS),
        NECESSARY,
        LegalBasis.CONTRACT,
        "While the account exists.",
        None,
        Erasure.DELETE,
        Step.CONSENT,
        Export.EXPORT,
        account_field="account_id",
        erasure_note="after the linked devices' consent history is pseudonymised",
    ),
    PersonalData(
        "DeletionRequest",
        DeletionRequest,
        ("requested_at", "due_at", "reason", "receipt_address"),
        (DataCategory.USER_CONTENT, DataCategory.CONTACT),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "Kept as a record that the deletion was done.",
        None,
        Erasure.ANONYMISE,
        Step.TOMBSTONE,
        Export.EXPORT,
        account_field="account_id",
        anonymised={"reason": "''", "receipt_address": "NULL"},
        erasure_note="kept with its signed erasure receipt, its random request id and the "
        "keyed hash of the user's secret (models.rights.erasure_receipts); none names the user. "
        "The address the receipt goes to is copied here, sealed under the request's own key, "
        "before the account's key is destroyed, and is erased with that key once the receipt "
        "is owed",
    ),
    PersonalData(
        "DataRequest",
        DataRequest,
        (
            "kind",
            "status",
            "received_at",
            "verified_at",
            "due_at",
            "completed_at",
            "region",
            "details",
            "reason",
            "extended_at",
            "extension_reason",
        ),
        (DataCategory.USER_CONTENT, DataCategory.STAFF_RECORDS),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "Kept as a record that each right was answered, and when.",
        None,
        Erasure.ANONYMISE,
        Step.TOMBSTONE,
        Export.EXPORT,
        account_field="account_id",
        staff_field="decided_by_id",
        anonymised={
            "details": "{}",
            "reason": "''",
            "extension_reason": "''",
            "region": "NULL",
            "decided_by_id": "NULL",
        },
        erasure_note="open requests are closed (the deletion's own COMPLETED, others WITHDRAWN)",
    ),
    PersonalData(
        "IdentityCheck",
        IdentityCheck,
        ("channel", "name_hash", "address_hash", "code_hash", "created_at", "used_at"),
        (DataCategory.IDENTITY, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "Until an hour after its code expires (the sending limits count it that long); a "
        "request it never verified goes with it.",
        "contact_code_ttl",
        Erasure.DELETE,
        Step.SESSIONS,
        Export.NOT_EXPORTED,
        "a short-lived one-time code for a request filed without signing in; keyed hashes "
        "only, which tell the user nothing",
        account_field="request__account_id",
    ),
    PersonalData(
        "DataExport",
        DataExport,
        ("created_at", "ready_at", "expires_at", "downloaded_at", "size", "file_key", "token_hash"),
        (DataCategory.USER_CONTENT, DataCategory.SECURITY),
        NECESSARY,
        LegalBasis.LEGAL_OBLIGATION,
        "Until its link is used or expires; then the archive and the row are deleted.",
        "export_link_ttl",
        Erasure.DELETE,
        Step.PICTURES,
        Export.NOT_EXPORTED,
        "the archive itself, which the user downloads; the request it answers is in "
        "data_request.json",
        account_field="account_id",
        not_exported=("file_key", "token_hash"),
        erasure_note="with the pictures: each archive's file before its row",
    ),
    PersonalData(
        "AccountNameQuarantine",
        AccountNameQuarantine,
        ("name_hash",),
        (DataCategory.IDENTITY,),
        NECESSARY,
        LegalBasis.LEGITIMATE_INTEREST,
        "A deleted account's name is unavailable to others for this long.",
        "account_name_quarantine",
        Erasure.KEPT_UNTIL_EXPIRY,
        Step.TOMBSTONE,
        Export.NOT_EXPORTED,
        "written by the deletion itself; a keyed hash with no link to the account",
    ),
)

#: Every table without personal data, and why (a model in neither list fails a test).
NO_PERSONAL_DATA: dict[str, str] = {
    "questionnaire": "a questionnaire's title and questions, written by staff; the "
    "answers are in questionnaire_answer",
    "purpose": "the purposes consent is asked for: the service's own text",
    "announcement": "public announcements to everyone, naming nobody",
    "campaign": "a notification campaign's content and audience rule; its recipients are "
    "in campaign_audience and notification",
    "campaign_shard": "progress of a campaign's fan-out: id ranges and counters",
    "security_incident": "the incident report itself, and its report to the supervisory "
    "authority (when, the authority's reference, what was reported: categories and numbers, "
    "never a person); whom it affected is in campaign_audience, which officer recorded the "
    "report in staff_audit_entry",
    "service_shutdown": "a shutdown's scope (a consent purpose), date, the kinds of this map "
    "it erases and its progress: counts and a cursor of row ids",
    "staff_audit_head": "the staff audit log's last sequence number and hash",
    "subject_key": "a data subject's keys, wrapped by the master key, and the subject's "
    "kind and id (account:<id>); the keys are destroyed first when the account is deleted",
    "master_key_check": "a fixed value encrypted by each master key, to recognise it",
    "consent_anchor": "the signed Merkle roots over every consent chain's head, published to "
    "anyone; they name no chain",
    "consent_anchor_proof": "the audit paths of chain heads in each consent anchor; a chain "
    "is named only by a keyed hash of its name, and an account's chains' proofs are deleted "
    "with the account (before its chains are pseudonymised)",
}

BY_KIND: dict[str, PersonalData] = {entry.kind: entry for entry in DATA_MAP}


def entries_of(step: Step) -> list[PersonalData]:
    """The map's entries that ``step`` erases, in the map's order."""
    return [entry for entry in DATA_MAP if entry.step == step]
