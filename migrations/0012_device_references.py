from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField
from tortoise import fields

# A device's id is stored nowhere in the clear: a consent event seals it (and finds it by a
# blind index, ``device_ref``); every other table holds the device's reference, a keyed
# hash (``models.keys.device_refs``). ``accord migrate`` converts what an earlier version
# stored (``models.keys.device_backfill``), then seals.
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn


class Migration(migrations.Migration):
    dependencies = [('models', '0011_sealed_notices')]

    initial = False

    operations = [
        SealColumn(
            model_name='ConsentEvent',
            name='device_id',
            field=SealedField(null=True, blind_index=('device_ref', 'consent event device'), placeholders=()),
        ),
        ops.AddField(
            model_name='ConsentEvent',
            name='device_ref',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
