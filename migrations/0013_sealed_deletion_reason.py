from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField

# A cancellation's reason, the user's own words, is sealed text now: TEXT on PostgreSQL, as
# on SQLite (see 0005). ``accord migrate`` seals what the column held.
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn


class Migration(migrations.Migration):
    dependencies = [('models', '0012_device_references')]

    initial = False

    operations = [
        SealColumn(
            model_name='DeletionRequest',
            name='reason',
            field=SealedField(default='', description="The user's own words, sealed under the request's key, erased when the deletion", placeholders=()),
        ),
    ]
