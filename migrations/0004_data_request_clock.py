from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.contacts import ContactChannel
from models.notifications.inbox import NotificationKind
from models.rights.requests import ClockedIndex, Urgency
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class DescriptionOnly(ops.AlterField):
    """An AlterField whose only change is the column's description (NotificationKind grew
    the data requests' kinds): recorded in the migration state, the table left alone (see
    0002_strong_authentication: on SQLite a real AlterField rebuilds the table and loses its
    indexes)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0003_data_requests')]

    initial = False

    operations = [
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
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='DataRequest',
            name='extended_at',
            field=fields.DatetimeField(null=True, description='When a privacy officer extended the due date (once at most).', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='DataRequest',
            name='extension_reason',
            field=fields.CharField(default='', description="Why, in the officer's words: the user is told it with the new date.", max_length=500),
        ),
        ops.AddField(
            model_name='DataRequest',
            name='urgency_notified',
            field=fields.CharEnumField(default=Urgency.ON_TIME, description='ON_TIME: ON_TIME\nAT_RISK: AT_RISK\nOVERDUE: OVERDUE', enum_type=Urgency, max_length=8),
        ),
        ops.AddIndex(
            model_name='DataRequest',
            index=ClockedIndex(fields=['due_at', 'id'], name='data_request_clocked_due'),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED', enum_type=NotificationKind, max_length=32),
        ),
    ]
