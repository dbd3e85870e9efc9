from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.account import Role
from models.accounts.contacts import ContactChannel
from models.notifications.inbox import NotificationKind
from models.rights.audit import StaffAction
from models.rights.requests import ClockedIndex, DataRequestKind, DataRequestStatus, Urgency
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class DescriptionOnly(ops.AlterField):
    """An AlterField whose only change is an enum column's description (the enum grew
    members): recorded in the migration state, the table left alone (see
    0002_strong_authentication: on SQLite a real AlterField rebuilds the table and loses its
    indexes)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0002_strong_authentication')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataRequest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_index=True, description='NULL only for an unverified request that named no account (it is answered alike).', db_constraint=True, to_field='id', related_name='data_requests', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='ACCESS: ACCESS\nCORRECTION: CORRECTION\nERASURE: ERASURE\nACCOUNT_DELETION: ACCOUNT_DELETION', enum_type=DataRequestKind, max_length=24)),
                ('status', fields.CharEnumField(default=DataRequestStatus.RECEIVED, description='RECEIVED: RECEIVED\nVERIFIED: VERIFIED\nIN_PROGRESS: IN_PROGRESS\nCOMPLETED: COMPLETED\nREJECTED: REJECTED\nWITHDRAWN: WITHDRAWN', enum_type=DataRequestStatus, max_length=16)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, description='``verified_at`` + the period of the law that applies (``models.rights.data_requests``).', auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('region', fields.CharField(null=True, description="The region whose period set ``due_at`` (the account's region when filed).", max_length=8)),
                ('urgency', fields.CharEnumField(default=Urgency.ON_TIME, description='ON_TIME: ON_TIME\nAT_RISK: AT_RISK\nOVERDUE: OVERDUE', enum_type=Urgency, max_length=8)),
                ('details', fields.JSONField(default=dict, description="What the request asks, by kind (a correction's field and value, an erasure's rows).", encoder=JSON_DUMPS, decoder=loads)),
                ('reason', fields.CharField(default='', description="Why it was rejected, or what was done (staff's words, shown to the user).", max_length=500)),
                ('decided_by', fields.ForeignKeyField('models.Account', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_requests', on_delete=OnDelete.SET_NULL)),
                ('extended_at', fields.DatetimeField(null=True, description='When a privacy officer extended the due date (once at most).', auto_now=False, auto_now_add=False)),
                ('extension_reason', fields.CharField(default='', description="Why, in the officer's words: the user is told it with the new date.", max_length=500)),
                ('urgency_notified', fields.CharEnumField(default=Urgency.ON_TIME, description='ON_TIME: ON_TIME\nAT_RISK: AT_RISK\nOVERDUE: OVERDUE', enum_type=Urgency, max_length=8)),
            ],
            options={'table': 'data_request', 'app': 'models', 'indexes': [ClockedIndex(fields=['due_at', 'id'], name='data_request_clocked_due')], 'pk_attr': 'id', 'table_description': 'One right exercised, from filing to answer: the row is the promise (and its clock).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DataExport',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.OneToOneField('models.DataRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='export', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='data_exports', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_token', fields.CharField(null=True, description='The run building it (until ``lease_until``, then the sweeper queues it again).', max_length=32)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('file_key', fields.CharField(null=True, description="The archive's file name under ``<data_dir>/exports`` (``ExportFiles``), once complete.", max_length=64)),
                ('size', fields.BigIntField(null=True)),
                ('ready_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('token_hash', fields.CharField(null=True, unique=True, description="Keyed hash of the link's token (``link_hash``): the token itself is never stored.", max_length=64)),
                ('downloaded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'data_export', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One archive answering one ACCESS request, from its building to its removal.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IdentityCheck',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.OneToOneField('models.DataRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='identity_check', on_delete=OnDelete.CASCADE)),
                ('handle_hash', fields.CharField(unique=True, description='Keyed hash of the opaque handle the filer was given (found by its value).', max_length=64)),
                ('channel', fields.CharEnumField(description='EMAIL: EMAIL\nPHONE: PHONE', enum_type=ContactChannel, max_length=8)),
                ('name_hash', fields.CharField(description='Keyed hash of the account name as given (the per-name limit counts it, account or not).', max_length=64)),
                ('address_hash', fields.CharField(description='Keyed hash of the address as given (the per-address limit counts it).', max_length=64)),
                ('code_hash', fields.CharField(description='Keyed hash of the code (``code_hash``).', max_length=64)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(description='From ``clock.now()``, as the limits count it.', auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, description='When its code verified the request: it works once.', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'identity_check', 'app': 'models', 'indexes': [Index(fields=['name_hash', 'created_at']), Index(fields=['address_hash', 'created_at']), Index(fields=['expires_at'])], 'pk_attr': 'id', 'table_description': 'The one-time code a signed-out data request waits for.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffAuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('seq', fields.BigIntField(unique=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('staff_id', fields.BigIntField(db_index=True, description="The staff account (its tombstone's id once deleted): a plain column, see the module.")),
                ('staff_role', fields.CharEnumField(description='USER: USER\nSUPPORT: SUPPORT\nPRIVACY_OFFICER: PRIVACY_OFFICER\nOPERATOR: OPERATOR\nADMIN: ADMIN', enum_type=Role, max_length=16)),
                ('action', fields.CharEnumField(description='READ_SUPPORT_THREAD: READ_SUPPORT_THREAD\nREAD_DATA_REQUEST: READ_DATA_REQUEST\nDECIDE_DATA_REQUEST: DECIDE_DATA_REQUEST\nEXTEND_DATA_REQUEST: EXTEND_DATA_REQUEST\nCORRECT: CORRECT\nERASE: ERASE', enum_type=StaffAction, max_length=24)),
                ('subject_id', fields.BigIntField(null=True, db_index=True, description="Whose data (the account's tombstone id once deleted), NULL if no account's.")),
                ('resource', fields.CharField(description='Which kind of data (a kind of the map, ``Kind.field`` for a correction).', max_length=64)),
                ('resource_id', fields.TextField(default='', description='Which rows of it ("" for every row of the kind).', unique=False)),
                ('reason', fields.CharField(description="Why: the staff member's reason.", max_length=500)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'staff_audit_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': "One staff read or change of a subject's personal data."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffAuditHead',
            fields=[
                ('chain', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('seq', fields.BigIntField()),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'staff_audit_head', 'app': 'models', 'pk_attr': 'chain', 'table_description': "The chain's head: its last sequence number and hash (one row, ``chain`` HEAD)."},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY', enum_type=NotificationKind, max_length=32),
        ),
        ops.DeleteModel(name='StaffAccess'),
    ]
