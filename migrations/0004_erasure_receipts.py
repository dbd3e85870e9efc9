from tortoise import migrations
from tortoise.migrations import operations as ops
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
    ]
