from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0015_sealed_region_and_gender')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Announcement',
            name='policy_version',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
