from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.levels import AuthLevel, Factor
from models.accounts.sign_in_challenges import Purpose
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
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
        ops.AddField(
            model_name='Session',
            name='auth_level',
            field=fields.CharEnumField(default=AuthLevel.SINGLE_FACTOR, description='SINGLE_FACTOR: SINGLE_FACTOR\nMULTI_FACTOR: MULTI_FACTOR', db_default='SINGLE_FACTOR', enum_type=AuthLevel, max_length=16),
        ),
    ]
