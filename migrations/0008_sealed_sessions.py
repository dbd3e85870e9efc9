from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField

# Where a session was opened from (browser, network) is sealed text now: TEXT on PostgreSQL,
# as on SQLite (see 0005). ``accord migrate`` seals what the columns held.
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn


class Migration(migrations.Migration):
    dependencies = [('models', '0007_sealed_content')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Session',
            options={'table': 'session', 'app': 'models', 'pk_attr': 'id', 'table_description': "A signed-in session, its browser and network sealed under its account's key."},
        ),
        SealColumn(
            model_name='Session',
            name='network',
            field=SealedField(default='', description='The client network it signed in from (``network_of``), never the full address, or ""', db_default=''),
        ),
        SealColumn(
            model_name='Session',
            name='user_agent',
            field=SealedField(default=''),
        ),
    ]
