from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts.account import Gender
from importlib import import_module
from models.keys.sealed_fields import SealedEnumField, SealedField

# The account's gender and region, and the region a data request's period was set by, are
# sealed text now (see 0005). ``accord migrate`` seals what the columns held.
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn

class Migration(migrations.Migration):
    dependencies = [('models', '0014_sealed_request_details')]

    initial = False

    operations = [
        SealColumn(
            model_name='Account',
            name='gender',
            field=SealedEnumField(default=Gender.UNDISCLOSED, enum_type=Gender),
        ),
        SealColumn(
            model_name='Account',
            name='region',
            field=SealedField(null=True),
        ),
        SealColumn(
            model_name='DataRequest',
            name='region',
            field=SealedField(null=True, description="The region whose period set ``due_at`` (the account's region when filed)."),
        ),
    ]
