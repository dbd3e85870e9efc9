from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField

# Where a consent event came from (browser, truncated address) is sealed text now: TEXT on
# PostgreSQL, as on SQLite (see 0005). ``accord migrate`` seals what the columns held; the
# chain hashes the plain values, so it verifies the same before and after.
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn


class Migration(migrations.Migration):
    dependencies = [('models', '0009_sealed_favorite_items')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='ConsentEvent',
            options={'table': 'consent_event', 'app': 'models', 'unique_together': (('subject', 'seq'), ('subject', 'idempotency_key')), 'pk_attr': 'id', 'table_description': "One decision or fact in a subject's chain, its browser and address sealed."},
        ),
        SealColumn(
            model_name='ConsentEvent',
            name='client_address',
            field=SealedField(default='', description='Truncated: /24 for IPv4, /48 for IPv6.'),
        ),
        SealColumn(
            model_name='ConsentEvent',
            name='user_agent',
            field=SealedField(default=''),
        ),
    ]
