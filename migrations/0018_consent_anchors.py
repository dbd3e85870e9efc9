from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0017_global_privacy_control')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentAnchor',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('period', fields.CharField(unique=True, description="The period's start (``period_of``): one anchor per period, enforced here.", max_length=32)),
                ('tree_size', fields.BigIntField()),
                ('root_hash', fields.CharField(max_length=64)),
                ('previous_root_hash', fields.CharField(null=True, max_length=64)),
                ('token', fields.TextField(description='The compact JWS (ES256, the consent-receipt key) of ``anchor_claims``.', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'consent_anchor', 'app': 'models', 'pk_attr': 'id', 'table_description': "One period's signed root. Append-only: never updated once its token is written."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentAnchorProof',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('anchor', fields.ForeignKeyField('models.ConsentAnchor', source_field='anchor_id', db_constraint=True, to_field='id', related_name='proofs', on_delete=OnDelete.CASCADE)),
                ('chain_key', fields.CharField(max_length=64)),
                ('leaf_index', fields.BigIntField()),
                ('head_seq', fields.BigIntField()),
                ('head_hash', fields.CharField(max_length=64)),
                ('path', fields.TextField(description='The sibling hashes from the leaf up, hex, comma-separated.', unique=False)),
            ],
            options={'table': 'consent_anchor_proof', 'app': 'models', 'unique_together': (('anchor', 'chain_key'),), 'indexes': [Index(fields=['chain_key', 'head_seq'])], 'pk_attr': 'id', 'table_description': 'The audit path of a chain head that an anchor holds and the previous did not.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ConsentChain',
            name='anchored_seq',
            field=fields.BigIntField(default=0, description="The head's seq in the latest anchor that holds it (``models.consent.anchors``).", db_default=0),
        ),
    ]
