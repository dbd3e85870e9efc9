from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.consent.ledger import Source
from tortoise import fields

# The ledger's sources grew GPC: a description only, the table left alone (see 0003).
DescriptionOnly = import_module("migrations.0003_data_subject_rights").DescriptionOnly


class Migration(migrations.Migration):
    dependencies = [('models', '0016_material_change_announcements')]

    initial = False

    operations = [
        DescriptionOnly(
            model_name='ConsentEvent',
            name='source',
            field=fields.CharEnumField(description='WEB: WEB\nIOS: IOS\nANDROID: ANDROID\nAPI: API\nSUPPORT: SUPPORT\nGPC: GPC', enum_type=Source, max_length=16),
        ),
        ops.AddField(
            model_name='Purpose',
            name='gpc_opt_out',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        # The default purpose a Global Privacy Control signal opts out of, as a new
        # database gets it (models.consent.purposes.DEFAULT_PURPOSES).
        ops.RunSQL(
            "UPDATE purpose SET gpc_opt_out = TRUE WHERE code = 'advertising'",
            reverse_sql="UPDATE purpose SET gpc_opt_out = FALSE WHERE code = 'advertising'",
        ),
    ]
