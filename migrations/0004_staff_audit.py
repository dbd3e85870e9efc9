from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.account import Role
from models.notifications.inbox import NotificationKind
from models.rights.audit import StaffAction
from tortoise import fields

class DescriptionOnly(ops.AlterField):
    """An AlterField whose only change is the column's description (an enum's values, listed
    in it, grew): recorded in the migration state, the table left alone (as in
    0002_strong_authentication: on SQLite, Tortoise 1.1 rebuilds a table to alter a column
    and loses its indexes and unique constraints on the way)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0003_data_requests')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StaffAuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('seq', fields.BigIntField(unique=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('staff_id', fields.BigIntField(db_index=True, description="The staff account (its tombstone's id once deleted): a plain column, see the module.")),
                ('staff_role', fields.CharEnumField(description='USER: USER\nSUPPORT: SUPPORT\nPRIVACY_OFFICER: PRIVACY_OFFICER\nOPERATOR: OPERATOR\nADMIN: ADMIN', enum_type=Role, max_length=16)),
                ('action', fields.CharEnumField(description='READ_SUPPORT_THREAD: READ_SUPPORT_THREAD\nREAD_DATA_REQUEST: READ_DATA_REQUEST\nREAD_EXPORT: READ_EXPORT\nDECIDE_DATA_REQUEST: DECIDE_DATA_REQUEST\nCORRECT: CORRECT\nERASE: ERASE', enum_type=StaffAction, max_length=24)),
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
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED', enum_type=NotificationKind, max_length=32),
        ),
        ops.DeleteModel(name='StaffAccess'),
    ]
