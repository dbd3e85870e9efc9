from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField
from tortoise.indexes import Index

# A notice's title and text are sealed text now: TEXT on PostgreSQL, as on SQLite (see
# 0005). ``accord migrate`` seals what they held (a campaign's rows hold none).
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn


class Migration(migrations.Migration):
    dependencies = [('models', '0010_sealed_consent_context')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Notification',
            options={'table': 'notification', 'app': 'models', 'unique_together': (('campaign', 'account', 'channel'),), 'indexes': [Index(fields=['campaign_id', 'channel', 'status'])], 'pk_attr': 'id', 'table_description': "A message to one account, sealed under the account's key: its text, and the address"},
        ),
        SealColumn(
            model_name='Notification',
            name='body',
            field=SealedField(),
        ),
        SealColumn(
            model_name='Notification',
            name='title',
            field=SealedField(),
        ),
    ]
