from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

# Which item a favorite keeps is sealed text now, found by its blind index (``item_index``),
# which holds the one-favorite-per-item rule. ``accord migrate`` seals what the column held.
_sealed_fields = import_module("migrations.0005_sealed_fields")
SealColumn, DropUnique = _sealed_fields.SealColumn, _sealed_fields.DropUnique


class Migration(migrations.Migration):
    dependencies = [('models', '0008_sealed_sessions')]

    initial = False

    operations = [
        DropUnique(
            model_name='Favorite',
            name=None,
            fields=['account', 'item_type', 'item_id'],
        ),
        ops.AlterModelOptions(
            name='Favorite',
            options={'table': 'favorite', 'app': 'models', 'unique_together': (('account', 'item_type', 'item_index'),), 'pk_attr': 'id', 'table_description': 'An item kept by an account: which item, and the note, sealed under its key.'},
        ),
        SealColumn(
            model_name='Favorite',
            name='item_id',
            field=SealedField(blind_index=('item_index', 'favorite item')),
        ),
        ops.AddField(
            model_name='Favorite',
            name='item_index',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddConstraint(
            model_name='Favorite',
            constraint=UniqueConstraint(fields=('account', 'item_type', 'item_index'), name=None),
        ),
    ]
