from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_files import FileEncryption
from models.notifications.inbox import NotificationKind
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
    dependencies = [('models', '0003_data_subject_rights')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MasterKeyCheck',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('master_key_id', fields.CharField(unique=True, max_length=100)),
                ('canary', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'master_key_check', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A known value encrypted by each master key in use, so start-up can tell a wrong'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubjectKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(unique=True, description='``account:<id>`` (later ``device:<id>``), or ``destroyed:<keyed hash>`` once destroyed.', max_length=64)),
                ('keysets', fields.TextField(null=True, description='JSON ``{purpose: base64(tink encrypted keyset)}``, NULL once destroyed.', unique=False)),
                ('master_key_id', fields.CharField(null=True, db_index=True, description='The master key that wrapped ``keysets`` (``accord.master_keys``).', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('destroyed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subject_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The data keys of one data subject, wrapped by the master key. Once ``destroyed_at``'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='DataExport',
            name='encryption',
            field=fields.CharEnumField(default=FileEncryption.TINK_STREAMING_V1, description='NONE: none\nTINK_STREAMING_V1: tink-streaming-v1', db_default=FileEncryption.NONE, enum_type=FileEncryption, max_length=24),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='key_destroyed_at',
            field=fields.DatetimeField(null=True, description="When the account's data keys were destroyed (the deletion's first step): from then", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='receipt_id',
            field=fields.CharField(null=True, description="The erasure receipt's pseudonymous request id (a random UUID, new at each cancellation).", max_length=36),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='receipt_issued_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='receipt_secret_hash',
            field=fields.CharField(null=True, description='The secret handed to the user at cancellation, only as a keyed hash.', max_length=64),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='receipt_token',
            field=fields.TextField(null=True, description='The signed receipt (a compact JWS), written once when the deletion completes.', unique=False),
        ),
        ops.AddIndex(
            model_name='DeletionRequest',
            index=Index(fields=['receipt_id']),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='Picture',
            name='encryption',
            field=fields.CharEnumField(default=FileEncryption.TINK_STREAMING_V1, description='NONE: none\nTINK_STREAMING_V1: tink-streaming-v1', db_default=FileEncryption.NONE, enum_type=FileEncryption, max_length=24),
        ),
    ]
