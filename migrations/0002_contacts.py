from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.contacts import ContactChannel, VerificationStatus
from models.notifications.inbox import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class DescriptionOnly(ops.AlterField):
    """An AlterField whose only change is the description (new NotificationKind values):
    recorded in the migration state, but the table is left alone. On SQLite, Tortoise 1.1
    rebuilds a table to alter a column and loses its indexes and unique constraints on the
    way (notification's unique (campaign, account, channel) among them); a column comment is
    not worth that."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactVerification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='contact_verifications', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='EMAIL: EMAIL\nPHONE: PHONE', enum_type=ContactChannel, max_length=8)),
                ('address', fields.CharField(description='The normalised address the code went to (an e-mail address, or E.164).', max_length=254)),
                ('address_key', fields.CharField(description='What addresses compare as (``email_key``, E.164 as is): the per-address limit counts it.', max_length=254)),
                ('code_hash', fields.CharField(description='Hex HMAC-SHA256 of the code (``code_hash``).', max_length=64)),
                ('status', fields.CharEnumField(default=VerificationStatus.PENDING, description='PENDING: PENDING\nVERIFIED: VERIFIED\nREPLACED: REPLACED\nLOCKED: LOCKED', enum_type=VerificationStatus, max_length=10)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(description="From ``clock.now()`` (not the database's clock), as the limits count it.", auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('consumed_at', fields.DatetimeField(null=True, description='When it stopped being pending: verified, replaced or locked.', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'contact_verification', 'app': 'models', 'indexes': [Index(fields=['account_id', 'channel', 'status']), Index(fields=['address_key', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='Notification',
            name='address',
            field=fields.CharField(null=True, max_length=254),
        ),
    ]
