from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.contacts import ContactChannel, VerificationStatus
from models.accounts.levels import AuthLevel, Factor
from models.accounts.sign_in_challenges import Purpose
from models.notifications.inbox import NotificationKind
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

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
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='recovery_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(description='HMAC-SHA256 (hex) of the code under the secret key (see the module).', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_code', 'app': 'models', 'unique_together': (('account', 'code_hash'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInChallenge',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='sign_in_challenges', on_delete=OnDelete.CASCADE)),
                ('first_factor', fields.CharEnumField(description='PASSWORD: PASSWORD\nPROVIDER: PROVIDER\nTOTP: TOTP\nRECOVERY_CODE: RECOVERY_CODE\nPASSKEY: PASSKEY', enum_type=Factor, max_length=16)),
                ('purpose', fields.CharEnumField(default=Purpose.SIGN_IN, description='SIGN_IN: SIGN_IN\nRESTORE: RESTORE', enum_type=Purpose, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0, description='Wrong second factors tried against it.')),
                ('consumed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_challenge', 'app': 'models', 'indexes': [Index(fields=['account_id']), Index(fields=['expires_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TotpCredential',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='totp', on_delete=OnDelete.CASCADE)),
                ('secret', fields.CharField(description='Base32, as the authenticator app got it. Readable by design (see the module).', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_step', fields.BigIntField(null=True, description='The time step (Unix time / 30 s) of the last code accepted: it and older are refused.')),
            ],
            options={'table': 'totp_credential', 'app': 'models', 'pk_attr': 'id', 'table_description': "An account's TOTP authenticator (at most one): pending until confirmed."},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AlterField(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='Notification',
            name='address',
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name='Session',
            name='auth_level',
            field=fields.CharEnumField(default=AuthLevel.SINGLE_FACTOR, description='SINGLE_FACTOR: SINGLE_FACTOR\nMULTI_FACTOR: MULTI_FACTOR', db_default='SINGLE_FACTOR', enum_type=AuthLevel, max_length=16),
        ),
    ]
