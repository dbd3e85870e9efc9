from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.consent import EventKind, Source
from models.purposes import LegalBasis
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentChain',
            fields=[
                ('subject', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('seq', fields.BigIntField()),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'consent_chain', 'app': 'models', 'pk_attr': 'subject', 'table_description': "The head of one subject's chain: its last sequence number and hash."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(max_length=80)),
                ('seq', fields.BigIntField()),
                ('kind', fields.CharEnumField(description='GRANTED: GRANTED\nWITHDRAWN: WITHDRAWN\nPOLICY_ACCEPTED: POLICY_ACCEPTED\nDEVICE_LINKED: DEVICE_LINKED', enum_type=EventKind, max_length=24)),
                ('purpose_code', fields.CharField(null=True, max_length=64)),
                ('policy_version', fields.CharField(null=True, max_length=32)),
                ('source', fields.CharEnumField(description='WEB: WEB\nIOS: IOS\nANDROID: ANDROID\nAPI: API\nSUPPORT: SUPPORT', enum_type=Source, max_length=16)),
                ('device_id', fields.CharField(null=True, max_length=128)),
                ('client_timestamp', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('server_timestamp', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('idempotency_key', fields.CharField(max_length=36)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('client_address', fields.CharField(default='', description='Truncated: /24 for IPv4, /48 for IPv6.', max_length=64)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'consent_event', 'app': 'models', 'unique_together': (('subject', 'seq'), ('subject', 'idempotency_key')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeviceLink',
            fields=[
                ('device_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='devices_linked', on_delete=OnDelete.CASCADE)),
                ('linked_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'device_link', 'app': 'models', 'pk_attr': 'device_id', 'table_description': 'An anonymous device whose history now belongs to an account.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.CharField(unique=True, max_length=32)),
                ('summary', fields.TextField(unique=False)),
                ('url', fields.CharField(null=True, max_length=2048)),
                ('text', fields.TextField(null=True, unique=False)),
                ('text_sha256', fields.CharField(max_length=64)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('effective_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('material', fields.BooleanField(default=False)),
                ('change_categories', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('purpose_codes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('published_by', fields.ForeignKeyField('models.Account', source_field='published_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'policy_version', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Purpose',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('required', fields.BooleanField(default=False)),
                ('legal_basis', fields.CharEnumField(default=LegalBasis.CONSENT, description='CONSENT: CONSENT\nCONTRACT: CONTRACT\nLEGAL_OBLIGATION: LEGAL_OBLIGATION\nLEGITIMATE_INTEREST: LEGITIMATE_INTEREST\nVITAL_INTEREST: VITAL_INTEREST\nPUBLIC_TASK: PUBLIC_TASK', enum_type=LegalBasis, max_length=32)),
                ('category', fields.CharField(default='Core Function', description='Kantara Consent Receipt purpose category, e.g. "Core Function", "Marketing".', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'purpose', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
