from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.contacts import ContactChannel, VerificationStatus
from models.accounts.levels import AuthLevel, Factor
from models.accounts.passkeys import CeremonyPurpose
from models.accounts.sign_in_challenges import Purpose
from models.accounts.sign_ins import SignInKind
from models.notifications.inbox import NotificationKind
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class DescriptionOnly(ops.AlterField):
    """An AlterField whose only change is the column's description (an enum's values, listed
    in it, grew): recorded in the migration state, the table left alone. On SQLite, Tortoise
    1.1 rebuilds a table to alter a column and loses its indexes and unique constraints on
    the way (notification's unique (campaign, account, channel) among them); a column
    comment is not worth that."""

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
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED', enum_type=NotificationKind, max_length=32),
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
        ops.AddField(
            model_name='Session',
            name='network',
            field=fields.CharField(default='', description='The client network it signed in from (``network_of``), never the full address, or ""', db_default='', max_length=50),
        ),
    ]
