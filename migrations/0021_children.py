from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.account import MinorBasis
from models.consent.guardians import GuardianCodePurpose, GuardianRequestStatus
from models.consent.ledger import EventKind
from models.keys.sealed_fields import SealedField
from models.notifications.inbox import NotificationKind
from models.rights.audit import StaffAction
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

# Children's information (the policy's section 1.1): an account's declared birth year
# (sealed), its minor flag and the guardian's consent, the codes sent to guardians. The
# enums of notifications, the ledger and the staff audit grew members and the ledger's
# ``detail`` a description: descriptions only, the tables left alone (see 0003).
DescriptionOnly = import_module("migrations.0003_data_subject_rights").DescriptionOnly


class Migration(migrations.Migration):
    dependencies = [('models', '0020_consent_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GuardianConsentRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='guardian_consent_requests', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='CONSENT: CONSENT\nWITHDRAWAL: WITHDRAWAL', enum_type=GuardianCodePurpose, max_length=12)),
                ('guardian_email', SealedField(description="The guardian's normalised address, sealed under the minor's key.", placeholders=())),
                ('guardian_email_key', fields.CharField(description='The blind index of what the address compares as: the per-address limit counts it.', max_length=32)),
                ('code_hash', fields.CharField(description='Hex HMAC-SHA256 of the code (``code_hash``).', max_length=64)),
                ('status', fields.CharEnumField(default=GuardianRequestStatus.PENDING, description='PENDING: PENDING\nCONFIRMED: CONFIRMED\nREPLACED: REPLACED\nLOCKED: LOCKED', enum_type=GuardianRequestStatus, max_length=10)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(description='From ``clock.now()``, as the limits count it.', auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('consumed_at', fields.DatetimeField(null=True, description='When it stopped being pending: confirmed, replaced or locked.', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'guardian_consent_request', 'app': 'models', 'indexes': [Index(fields=['account_id', 'purpose', 'status']), Index(fields=['guardian_email_key', 'created_at'])], 'pk_attr': 'id', 'table_description': "One code sent to a minor's guardian, to consent or to withdraw. Its id is what the"},
            bases=['SealedModel'],
        ),
        ops.AddField(
            model_name='Account',
            name='birth_year',
            field=SealedField(null=True, description='The year of birth the user declared (four digits), if any: sealed like the profile.', placeholders=()),
        ),
        ops.AddField(
            model_name='Account',
            name='guardian_consented_at',
            field=fields.DatetimeField(null=True, description='and GUARDIAN_WITHDRAWN events and written in the same transaction as each', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Account',
            name='minor',
            field=fields.BooleanField(default=False, description="A minor's account (``models.accounts.minors``). Plain, unlike the profile: the reads", db_default=False),
        ),
        ops.AddField(
            model_name='Account',
            name='minor_basis',
            field=fields.CharEnumField(null=True, description='BIRTH_YEAR: BIRTH_YEAR\nSTAFF: STAFF', enum_type=MinorBasis, max_length=16),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['minor']),
        ),
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT\nGUARDIAN_CONSENT_CODE: GUARDIAN_CONSENT_CODE\nGUARDIAN_WITHDRAWAL_CODE: GUARDIAN_WITHDRAWAL_CODE', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT\nGUARDIAN_CONSENT_CODE: GUARDIAN_CONSENT_CODE\nGUARDIAN_WITHDRAWAL_CODE: GUARDIAN_WITHDRAWAL_CODE', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='ConsentEvent',
            name='detail',
            field=fields.CharField(default='', description="What a REKEYED event carried over, how a guardian's consent was given or withdrawn", db_default='', max_length=200),
        ),
        DescriptionOnly(
            model_name='ConsentEvent',
            name='kind',
            field=fields.CharEnumField(description='GRANTED: GRANTED\nWITHDRAWN: WITHDRAWN\nPOLICY_ACCEPTED: POLICY_ACCEPTED\nDEVICE_LINKED: DEVICE_LINKED\nREKEYED: REKEYED\nGUARDIAN_CONSENTED: GUARDIAN_CONSENTED\nGUARDIAN_WITHDRAWN: GUARDIAN_WITHDRAWN', enum_type=EventKind, max_length=24),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT\nGUARDIAN_CONSENT_CODE: GUARDIAN_CONSENT_CODE\nGUARDIAN_WITHDRAWAL_CODE: GUARDIAN_WITHDRAWAL_CODE', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='StaffAuditEntry',
            name='action',
            field=fields.CharEnumField(description='READ_SUPPORT_THREAD: READ_SUPPORT_THREAD\nREAD_DATA_REQUEST: READ_DATA_REQUEST\nDECIDE_DATA_REQUEST: DECIDE_DATA_REQUEST\nEXTEND_DATA_REQUEST: EXTEND_DATA_REQUEST\nCORRECT: CORRECT\nERASE: ERASE\nRETRY_DELETION: RETRY_DELETION\nPOSTPONE_DELETION: POSTPONE_DELETION\nRESUME_CAMPAIGN: RESUME_CAMPAIGN\nCANCEL_CAMPAIGN: CANCEL_CAMPAIGN\nMANAGE_CONSENT_WEBHOOK: MANAGE_CONSENT_WEBHOOK\nMARK_MINOR: MARK_MINOR\nUNMARK_MINOR: UNMARK_MINOR\nVERIFY_GUARDIAN_CONSENT: VERIFY_GUARDIAN_CONSENT\nWITHDRAW_FOR_GUARDIAN: WITHDRAW_FOR_GUARDIAN', enum_type=StaffAction, max_length=24),
        ),
    ]
