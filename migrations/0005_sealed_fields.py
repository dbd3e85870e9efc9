from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint


class SqliteKeepsTable:
    """An operation recorded in the state everywhere, done to the table on PostgreSQL only.
    SQLite cannot alter a column or drop a table constraint in place: Tortoise rebuilds the
    table, which loses its indexes (see 0002_strong_authentication), and an inline UNIQUE
    is not an index it can drop. What SQLite keeps is harmless here: its columns have no
    length, and a UNIQUE over sealed text (a fresh nonce each time) never collides."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT != "sqlite":
            await super().database_backward(app_label, old_state, new_state, state_editor)


class SealColumn(SqliteKeepsTable, ops.AlterField):
    """A column that now holds sealed text (``models.keys.sealed_fields``): PostgreSQL
    widens it to TEXT and drops its UNIQUE (the blind index holds uniqueness now). The
    values themselves are sealed by ``accord migrate`` (``models.keys.backfill``), which has
    the keys a migration does not."""


class DropUnique(SqliteKeepsTable, ops.RemoveConstraint):
    """A UNIQUE over a column now sealed: its blind index's UNIQUE replaces it."""


class Migration(migrations.Migration):
    dependencies = [('models', '0004_erasure_receipts_and_data_keys')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Account',
            options={'table': 'account', 'app': 'models', 'indexes': [Index(fields=['deletion_due_at']), Index(fields=['email_index']), Index(fields=['phone_index'])], 'pk_attr': 'id', 'table_description': "Its personal fields are sealed under the account's own data key"},
        ),
        SealColumn(
            model_name='Account',
            name='account_name',
            field=SealedField(blind_index=('account_name_index', 'account name')),
        ),
        SealColumn(
            model_name='Account',
            name='avatar_url',
            field=SealedField(null=True),
        ),
        SealColumn(
            model_name='Account',
            name='email',
            field=SealedField(null=True, description='Where e-mail and SMS notifications go. Unset: in-app only.', blind_index=('email_index', 'e-mail address')),
        ),
        SealColumn(
            model_name='Account',
            name='nickname',
            field=SealedField(),
        ),
        SealColumn(
            model_name='Account',
            name='phone',
            field=SealedField(null=True, blind_index=('phone_index', 'phone number')),
        ),
        SealColumn(
            model_name='Account',
            name='signature',
            field=SealedField(default=''),
        ),
        ops.AddField(
            model_name='Account',
            name='account_name_index',
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
        ops.AddField(
            model_name='Account',
            name='email_index',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Account',
            name='phone_index',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['email_index']),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['phone_index']),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='receipt_address',
            field=SealedField(null=True, description="Where the receipt goes: the account's e-mail, copied before the account's key is"),
        ),
        DropUnique(
            model_name='Binding',
            name=None,
            fields=['provider', 'subject'],
        ),
        ops.AlterModelOptions(
            name='Binding',
            options={'table': 'binding', 'app': 'models', 'unique_together': (('provider', 'subject_index'), ('account', 'provider')), 'pk_attr': 'id', 'table_description': 'A third-party identity bound to an account. What the provider says of the person is'},
        ),
        SealColumn(
            model_name='Binding',
            name='avatar_url',
            field=SealedField(null=True),
        ),
        SealColumn(
            model_name='Binding',
            name='nickname',
            field=SealedField(null=True),
        ),
        SealColumn(
            model_name='Binding',
            name='subject',
            field=SealedField(description="The provider's ``sub`` claim: stable and unique per provider.", blind_index=('subject_index', 'provider subject')),
        ),
        ops.AddField(
            model_name='Binding',
            name='subject_index',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddConstraint(
            model_name='Binding',
            constraint=UniqueConstraint(fields=('provider', 'subject_index'), name=None),
        ),
        ops.AlterModelOptions(
            name='ContactVerification',
            options={'table': 'contact_verification', 'app': 'models', 'indexes': [Index(fields=['account_id', 'channel', 'status']), Index(fields=['address_key', 'created_at'])], 'pk_attr': 'id', 'table_description': "An address waiting for its code, sealed under the account's key."},
        ),
        SealColumn(
            model_name='ContactVerification',
            name='address',
            field=SealedField(description='The normalised address the code went to (an e-mail address, or E.164).'),
        ),
        SealColumn(
            model_name='ContactVerification',
            name='address_key',
            field=fields.CharField(description='The blind index of what the address compares as (``key_of``, ``address_index``):', max_length=254),
        ),
        SealColumn(
            model_name='TotpCredential',
            name='secret',
            field=SealedField(description='Base32, as the authenticator app got it, sealed (see the module).'),
        ),
        # What an address compared as was stored in the clear; it is a blind index now.
        # The old values go: the per-address limit restarts, and a code still pending from
        # before (bound to the old value) is refused, so its user asks for a new one.
        ops.RunSQL("UPDATE contact_verification SET address_key = ''"),
        ops.AlterModelOptions(
            name='Notification',
            options={'table': 'notification', 'app': 'models', 'unique_together': (('campaign', 'account', 'channel'),), 'indexes': [Index(fields=['campaign_id', 'channel', 'status'])], 'pk_attr': 'id', 'table_description': "A message to one account. The address it goes to, when not the account's own, is"},
        ),
        SealColumn(
            model_name='Notification',
            name='address',
            field=SealedField(null=True),
        ),
    ]
