from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts import AccountStatus, Gender, Role
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_name', fields.CharField(unique=True, max_length=32)),
                ('nickname', fields.CharField(max_length=32)),
                ('avatar_url', fields.CharField(null=True, max_length=2048)),
                ('gender', fields.CharEnumField(default=Gender.UNDISCLOSED, description='FEMALE: FEMALE\nMALE: MALE\nOTHER: OTHER\nUNDISCLOSED: UNDISCLOSED', enum_type=Gender, max_length=16)),
                ('region', fields.CharField(null=True, max_length=2)),
                ('signature', fields.CharField(default='', max_length=200)),
                ('password_hash', fields.CharField(null=True, description='None for an account created by a third-party sign-in that never set a password.', max_length=255)),
                ('role', fields.CharEnumField(default=Role.USER, description='USER: USER\nSUPPORT: SUPPORT\nPRIVACY_OFFICER: PRIVACY_OFFICER\nOPERATOR: OPERATOR\nADMIN: ADMIN', enum_type=Role, max_length=24)),
                ('status', fields.CharEnumField(default=AccountStatus.ACTIVE, description='ACTIVE: ACTIVE\nPENDING_DELETION: PENDING_DELETION\nDELETED: DELETED', enum_type=AccountStatus, max_length=24)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Binding',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='bindings', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=64)),
                ('subject', fields.CharField(description="The provider's ``sub`` claim: stable and unique per provider.", max_length=255)),
                ('nickname', fields.CharField(null=True, max_length=64)),
                ('avatar_url', fields.CharField(null=True, max_length=2048)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'binding', 'app': 'models', 'unique_together': (('provider', 'subject'), ('account', 'provider')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasswordReset',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='password_resets', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_reset', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A one-time reset granted after proving a bound identity. Only its hash is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('authenticated_at', fields.DatetimeField(description='When the user last proved who they are (password or provider token).', auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('user_agent', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'session', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
