from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.passkeys import CeremonyPurpose
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Passkey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='passkeys', on_delete=OnDelete.CASCADE)),
                ('credential_id', fields.CharField(unique=True, description='base64url, as clients send it (a binary column cannot be unique in Tortoise).', max_length=1364)),
                ('public_key', fields.BinaryField(description='COSE-encoded, as the authenticator made it.')),
                ('sign_count', fields.BigIntField(default=0)),
                ('transports', fields.CharField(default='', description='Comma-separated (``internal,hybrid``): handed back in ``allowCredentials``.', max_length=128)),
                ('aaguid', fields.CharField(max_length=36)),
                ('name', fields.CharField(max_length=64)),
                ('backup_eligible', fields.BooleanField(default=False, description="Whether the authenticator may sync the credential to the user's other devices.")),
                ('backed_up', fields.BooleanField(default=False, description='Whether it is synced, as of its last use.')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebAuthnChallenge',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('purpose', fields.CharEnumField(description='REGISTRATION: REGISTRATION\nAUTHENTICATION: AUTHENTICATION', enum_type=CeremonyPurpose, max_length=16)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_index=True, description='The account registering, or proving itself again (None: a discoverable sign-in).', db_constraint=True, to_field='id', related_name='webauthn_challenges', on_delete=OnDelete.CASCADE)),
                ('challenge', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('consumed_at', fields.DatetimeField(null=True, description='Set by the first answer, right or wrong.', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webauthn_challenge', 'app': 'models', 'pk_attr': 'id', 'table_description': "One ceremony's challenge: answerable once, until it expires."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebAuthnUser',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='webauthn_user', on_delete=OnDelete.CASCADE)),
                ('handle', fields.CharField(unique=True, description='base64url of USER_HANDLE_BYTES random bytes.', max_length=64)),
            ],
            options={'table': 'webauthn_user', 'app': 'models', 'pk_attr': 'id', 'table_description': "An account's WebAuthn user id: random, so it tells an authenticator nothing."},
            bases=['Model'],
        ),
    ]
