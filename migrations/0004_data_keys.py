from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_files import FileEncryption
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_data_subject_rights')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MasterKeyCheck',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('master_key_id', fields.CharField(unique=True, max_length=100)),
                ('canary', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'master_key_check', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A known value encrypted by each master key in use, so start-up can tell a wrong'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubjectKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(unique=True, description='``account:<id>`` (later ``device:<id>``), or ``destroyed:<keyed hash>`` once destroyed.', max_length=64)),
                ('keysets', fields.TextField(null=True, description='JSON ``{purpose: base64(tink encrypted keyset)}``, NULL once destroyed.', unique=False)),
                ('master_key_id', fields.CharField(null=True, db_index=True, description='The master key that wrapped ``keysets`` (``accord.master_keys``).', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('destroyed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subject_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The data keys of one data subject, wrapped by the master key. Once ``destroyed_at``'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='DataExport',
            name='encryption',
            field=fields.CharEnumField(default=FileEncryption.TINK_STREAMING_V1, description='NONE: none\nTINK_STREAMING_V1: tink-streaming-v1', db_default=FileEncryption.NONE, enum_type=FileEncryption, max_length=24),
        ),
        ops.AddField(
            model_name='DeletionRequest',
            name='key_destroyed_at',
            field=fields.DatetimeField(null=True, description="When the account's data keys were destroyed (the deletion's first step): from then", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Picture',
            name='encryption',
            field=fields.CharEnumField(default=FileEncryption.TINK_STREAMING_V1, description='NONE: none\nTINK_STREAMING_V1: tink-streaming-v1', db_default=FileEncryption.NONE, enum_type=FileEncryption, max_length=24),
        ),
    ]
