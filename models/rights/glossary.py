"""What each kind of personal data and each of its fields means, in plain words: the text an
export's README.txt (``models.rights.export_readme``) explains its files with.

Written once per field name (``FIELDS``), with a kind's own sense where the same name means
something else there (``BY_KIND``). A field missing from both falls back to the model
field's own description, then to its name, so a new kind in the map is still explained;
``tests/test_data_export.py`` fails until every exported field has words of its own here.
"""

from __future__ import annotations

from tortoise.models import Model

#: What a kind is, in one sentence, by the map's ``kind``.
KINDS: dict[str, str] = {
    "Account": "Your account: your name on the service, your profile and your contact points.",
    "Session": "Each place (browser or app) signed in to your account, while signed in.",
    "KnownSignIn": "Devices and networks you have signed in from, so that a sign-in from a "
    "new one can be reported to you.",
    "Binding": "Other sign-in services (such as Google) linked to your account.",
    "ContactVerification": "E-mail addresses and phone numbers you asked to add, and whether "
    "the code sent to them came back.",
    "Passkey": "Passkeys you registered to sign in without a password.",
    "WebAuthnUser": "The random identifier your passkeys know your account by.",
    "TotpCredential": "The authenticator app you added as a second factor.",
    "RecoveryCode": "The one-time recovery codes for your second factor.",
    "SearchRecord": "Searches you made, recorded with your consent to activity logging.",
    "ClickRecord": "Links you opened, recorded with your consent to activity logging.",
    "ErrorReport": "Error reports your app sent when something went wrong.",
    "Device": "Devices (phones, tablets) your app registered.",
    "Favorite": "Items you saved as favorites.",
    "QuestionnaireAnswer": "Your answers to questionnaires.",
    "Picture": "Pictures you uploaded; the image files are in the pictures/ folder.",
    "Feedback": "Comments, ratings and complaints you wrote.",
    "SupportThread": "Your conversations with customer support.",
    "SupportMessage": "The messages in your support conversations, yours and support's.",
    "StaffAuditEntry": "Each time a member of staff read or changed your data: who (by id and "
    "role), what, which rows, why, and when.",
    "Notification": "Messages we sent you, in the app, by e-mail or by text message.",
    "CampaignAudience": "Announcements (such as a security incident notice) that named you.",
    "ConsentEvent": "Every consent decision you made, policy you accepted and device linked "
    "to your account, as a hash chain that shows nothing was changed afterwards.",
    "ConsentChain": "The latest link of each of your consent chains.",
    "DeviceLink": "Devices whose history before you signed in on them now belongs to you.",
    "GuardianConsentRequest": "The codes sent to your parent or guardian to consent to "
    "publishing what you publish (or to withdraw that consent), and whether each came back; "
    "their address is not included, it is theirs.",
    "DeletionRequest": "Your request to delete your account, if you made one.",
    "DataRequest": "Every request you made about your data (exports like this one, "
    "corrections, erasures, deletion), and how each was answered.",
}

#: What a field means, by name, wherever it appears.
FIELDS: dict[str, str] = {
    "id": "This row's identifier (quote it when you ask us about the row).",
    "account_name": "The name you sign in with.",
    "nickname": "The name shown to others.",
    "avatar_url": "The address of your profile picture.",
    "gender": "The gender you gave, if any.",
    "region": "Your country or region (ISO 3166 code), which sets the law that applies.",
    "signature": "The short text on your profile.",
    "birth_year": "The year of birth you gave, if any: it tells whether the account is a minor's.",
    "minor": "true when the account is a minor's: what you publish is shown to others only "
    "with a guardian's consent.",
    "minor_basis": "Why the account is (or was) judged a minor's: BIRTH_YEAR from the year you "
    "gave, STAFF when our privacy office decided.",
    "guardian_consented_at": "When a guardian's consent to publishing what you publish was "
    "recorded (empty: none, or withdrawn).",
    "email": "Your verified e-mail address.",
    "phone": "Your verified phone number.",
    "role": "What the account may do on the service (USER for customers, others for staff).",
    "created_at": "When it was created.",
    "authenticated_at": "When you last proved who you are in this session.",
    "last_seen_at": "When it was last used.",
    "first_seen_at": "When it was first used.",
    "user_agent": "What your browser or app said it was (its user agent).",
    "network": "The network you connected from, never your full address (a /24 or /48 "
    "block of addresses).",
    "client_address": "The network you connected from, with the last part of the address removed.",
    "provider": "The sign-in service.",
    "bound_at": "When it was linked.",
    "channel": "How it was sent (SMS is a text message).",
    "address": "The e-mail address or phone number it went to.",
    "address_key": "The same address as compared for limits (lower case).",
    "consumed_at": "When the code was used, or stopped being valid.",
    "credential_id": "The passkey's identifier, as your device knows it.",
    "public_key": "The passkey's public key (base64url): it cannot sign anything.",
    "aaguid": "The model of the authenticator that made the passkey.",
    "name": "The name you gave it.",
    "transports": "How your browser reaches the passkey (usb, internal, hybrid...).",
    "last_used_at": "When it was last used.",
    "handle": "A random identifier (base64url), no information about you in itself.",
    "confirmed_at": "When a first code confirmed it.",
    "used_at": "When it was used (empty: not used).",
    "device_id": "The device, by a keyed hash of the random identifier your app made for it "
    "(Accord keeps no copy of the identifier itself).",
    "keywords": "What you searched for.",
    "recorded_at": "When it was recorded.",
    "link": "The link you opened.",
    "message": "The error message.",
    "stack": "Where in the app the error happened (the stack trace).",
    "device_config": "The device's settings the app sent with the report.",
    "app_version": "The version of the app.",
    "platform": "The device's operating system (android, ios, web...).",
    "model": "The device model.",
    "os_version": "The operating system's version.",
    "registered_at": "When the app registered the device.",
    "item_type": "What kind of item it is.",
    "item_id": "Which item.",
    "note": "Your note.",
    "answers": "Your answers, by question.",
    "answered_at": "When you answered.",
    "storage_key": "Where the image file is kept on our side.",
    "content_type": "The image format.",
    "width": "Width in pixels.",
    "height": "Height in pixels.",
    "size": "Size in bytes.",
    "body": "The text.",
    "rating": "Your rating, if you gave one.",
    "visibility": "PUBLIC is shown to everyone, PRIVATE to us only.",
    "order_ref": "The order you asked about, if any.",
    "status": "Where it stands.",
    "from_staff": "true when support wrote it, false when you did.",
    "staff_id": "Which member of staff (their account number; empty once they left).",
    "subject_account_id": "Your account number.",
    "resource": "What kind of data they read.",
    "resource_id": "Which item they read.",
    "at": "When.",
    "title": "Its title.",
    "sent_at": "When it was sent (empty: not sent).",
    "read_at": "When you read it in the app (empty: unread).",
    "campaign_id": "Which announcement.",
    "seq": "Its place in its chain: 1, 2, 3...",
    "purpose_code": "What the consent is for (see the purposes in the privacy policy).",
    "policy_version": "The version of the privacy policy in force when you decided.",
    "source": "Where you decided (the app, the web, or through support).",
    "client_timestamp": "When you decided, by your device's clock.",
    "server_timestamp": "When we received it, by our clock.",
    "idempotency_key": "The random key your app gave the decision, so a resend counts once.",
    "detail": "What a re-keyed chain carried over, or how a guardian's consent was given or "
    "withdrawn (empty for every other event).",
    "prev_hash": "The hash of the event before it in the chain (64 zeros for the first).",
    "hash": "SHA-256 of prev_hash followed by the event's canonical JSON "
    "(see consent_verification.json).",
    "linked_at": "When it was linked.",
    "requested_at": "When you asked.",
    "due_at": "When it is (or was) due.",
    "reason": "Your reason, or our answer.",
    "received_at": "When we received it.",
    "verified_at": "When we verified it was you (the clock to answer starts then).",
    "completed_at": "When it was answered.",
    "details": "What the request asked.",
}

#: Where a field means something else in one kind.
BY_KIND: dict[tuple[str, str], str] = {
    ("GuardianConsentRequest", "purpose"): "What the code was for: CONSENT, or WITHDRAWAL of "
    "the consent.",
    ("GuardianConsentRequest", "expires_at"): "Until when the code could be used.",
    ("GuardianConsentRequest", "status"): "PENDING (waiting for its code), CONFIRMED (it came "
    "back), REPLACED (a newer code took its place) or LOCKED (too many wrong codes).",
    ("Binding", "subject"): "Your identifier at the sign-in service.",
    ("Binding", "nickname"): "The name the sign-in service gave.",
    ("Binding", "avatar_url"): "The picture the sign-in service gave.",
    ("KnownSignIn", "kind"): "Whether it is a device (a browser or app on a system) or a network.",
    ("Feedback", "subject"): "What the feedback is about.",
    ("Feedback", "kind"): "What sort of feedback it is.",
    ("SupportThread", "subject"): "The subject you gave the conversation.",
    ("SupportThread", "status"): "Whether the conversation is still open.",
    ("Notification", "kind"): "What the message was about.",
    ("Notification", "body"): "The message's text.",
    ("ConsentEvent", "subject"): "Whose chain: account:<your account number>, or "
    "device:#<a keyed hash of the device's identifier> for a device's history from before "
    "you signed in on it.",
    ("ConsentEvent", "device_id"): "The random identifier your app made for the device "
    "that recorded it.",
    ("ConsentEvent", "kind"): "What happened: a consent granted or withdrawn, a policy "
    "accepted, a device linked, a guardian's consent given or withdrawn.",
    ("ConsentChain", "subject"): "Whose chain (as in consent_event.json).",
    ("ConsentChain", "hash"): "The hash of the chain's last event.",
    ("DataRequest", "kind"): "Which right: ACCESS is an export like this one.",
    ("DataRequest", "region"): "The region whose law set the due date.",
    ("DataRequest", "reason"): "Why it was rejected, or what was done.",
    ("DeletionRequest", "due_at"): "When the account is (or was) deleted unless restored.",
    ("DeletionRequest", "receipt_address"): "Where the erasure receipt goes once the "
    "deletion is done (your verified e-mail address, erased with it).",
    ("DataRequest", "extended_at"): "When a privacy officer gave it more time (once at most).",
    ("DataRequest", "extension_reason"): "Why it was given more time, as you were told.",
    ("StaffAuditEntry", "staff_role"): "Their role when they did it (SUPPORT, PRIVACY_OFFICER...).",
    ("StaffAuditEntry", "action"): "What they did: read a support thread or a request of "
    "yours, decided or extended a request, corrected or erased your data.",
    ("StaffAuditEntry", "subject_id"): "Your account number.",
    ("StaffAuditEntry", "resource"): "Which kind of data (Kind.field for a correction).",
    ("StaffAuditEntry", "resource_id"): "Which items of it (empty: every item).",
    ("StaffAuditEntry", "reason"): "Why, in their words.",
}


def field_meaning(kind: str, model: type[Model], name: str) -> str:
    """The words for one field of a kind, with the fallbacks the module docstring names;
    a field holding one of a list of values names them, read from its enum."""
    field = model._meta.fields_map.get(name)
    words = BY_KIND.get((kind, name)) or FIELDS.get(name)
    if words is None:
        described = getattr(field, "description", None)
        words = str(described) if described else name.replace("_", " ").capitalize() + "."
    choices = getattr(field, "enum_type", None)
    if choices is not None:
        words += " One of: " + ", ".join(str(choice) for choice in choices) + "."
    return words


def has_own_words(kind: str, name: str) -> bool:
    """Whether this module explains the field (the fallbacks are for kinds added later)."""
    return (kind, name) in BY_KIND or name in FIELDS


def kind_meaning(kind: str, model: type[Model]) -> str:
    if kind in KINDS:
        return KINDS[kind]
    return (model.__doc__ or "").strip().split("\n")[0] or f"Rows of {kind}."
