from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from accord.database import table_exists


class KeyStoreTable(ops.CreateModel):
    """The table as the data's ``0004`` made it (same columns, names and indexes). Skipped
    when it exists: the key store shares the data's database, which made it already."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        model = new_state.apps.get_model(f"{app_label}.{self.name}")
        if state_editor is not None and await table_exists(
            state_editor.client, model._meta.db_table
        ):
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

class Migration(migrations.Migration):
    initial = True

    operations = [
        KeyStoreTable(
            name='MasterKeyCheck',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('master_key_id', fields.CharField(unique=True, max_length=100)),
                ('canary', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'master_key_check', 'app': 'keys', 'pk_attr': 'id', 'table_description': 'A known value encrypted by each master key in use, so start-up can tell a wrong'},
            bases=['Model'],
        ),
        KeyStoreTable(
            name='SubjectKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(unique=True, description='``account:<id>`` (later ``device:<id>``), or ``destroyed:<keyed hash>`` once destroyed.', max_length=64)),
                ('keysets', fields.TextField(null=True, description='JSON ``{purpose: base64(tink encrypted keyset)}``, NULL once destroyed.', unique=False)),
                ('master_key_id', fields.CharField(null=True, db_index=True, description='The master key that wrapped ``keysets`` (``accord.master_keys``).', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('destroyed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subject_key', 'app': 'keys', 'pk_attr': 'id', 'table_description': 'The data keys of one data subject, wrapped by the master key. Once ``destroyed_at``'},
            bases=['Model'],
        ),
    ]
