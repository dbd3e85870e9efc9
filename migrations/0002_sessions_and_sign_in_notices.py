from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.sign_ins import SignInKind
from models.notifications.inbox import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields


class AlterComment(ops.AlterField):
    """An AlterField that changes only a column's comment (here the list of an enum's values,
    which Tortoise writes there). SQLite keeps comments in the table's SQL, and Tortoise would
    rebuild the whole table for one, dropping its indexes on the way: on SQLite it changes
    the migration state only."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is None or state_editor.DIALECT == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='KnownSignIn',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='known_sign_ins', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='DEVICE: DEVICE\nNETWORK: NETWORK', enum_type=SignInKind, max_length=8)),
                ('value_hash', fields.CharField(max_length=64)),
                ('first_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'known_sign_in', 'app': 'models', 'unique_together': (('account', 'kind', 'value_hash'),), 'pk_attr': 'id', 'table_description': 'A device or network an account has signed in from, as a keyed hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInNotice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='sign_in_notices', on_delete=OnDelete.CASCADE)),
                ('session_id', fields.UUIDField(description='Not a foreign key: the session ends (and its row goes) long before the notice.')),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('device_hash', fields.CharField(null=True, max_length=64)),
                ('network_hash', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'sign_in_notice', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The "this wasn\'t me" handle of one notice: the session it names and its token\'s'},
            bases=['Model'],
        ),
        AlterComment(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN', enum_type=NotificationKind, max_length=32),
        ),
        AlterComment(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN', enum_type=NotificationKind, max_length=32),
        ),
        AlterComment(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='Session',
            name='network',
            field=fields.CharField(default='', description='The client network it signed in from (``network_of``), never the full address, or ""', db_default='', max_length=50),
        ),
    ]
