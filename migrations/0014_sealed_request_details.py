from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedJSONField

# What a data request asks (a correction's value, a note) is sealed JSON text now: jsonb to
# TEXT on PostgreSQL (see 0007). ``accord migrate`` seals what the column held.
SealJSONColumn = import_module("migrations.0007_sealed_content").SealJSONColumn


class Migration(migrations.Migration):
    dependencies = [('models', '0013_sealed_deletion_reason')]

    initial = False

    operations = [
        SealJSONColumn(
            model_name='DataRequest',
            name='details',
            field=SealedJSONField(default=dict, placeholders=('{}',)),
        ),
    ]
