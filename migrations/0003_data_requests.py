from tortoise import migrations
from tortoise.migrations import operations as ops
from models.rights.requests import DataRequestKind, DataRequestStatus, Urgency
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_strong_authentication')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataRequest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_index=True, description='NULL only for an unverified request that named no account (it is answered alike).', db_constraint=True, to_field='id', related_name='data_requests', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='ACCESS: ACCESS\nCORRECTION: CORRECTION\nERASURE: ERASURE\nACCOUNT_DELETION: ACCOUNT_DELETION', enum_type=DataRequestKind, max_length=24)),
                ('status', fields.CharEnumField(default=DataRequestStatus.RECEIVED, description='RECEIVED: RECEIVED\nVERIFIED: VERIFIED\nIN_PROGRESS: IN_PROGRESS\nCOMPLETED: COMPLETED\nREJECTED: REJECTED\nWITHDRAWN: WITHDRAWN', enum_type=DataRequestStatus, max_length=16)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, description='``verified_at`` + the period of the law that applies (``models.rights.data_requests``).', auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('region', fields.CharField(null=True, description="The region whose period set ``due_at`` (the account's region when filed).", max_length=8)),
                ('urgency', fields.CharEnumField(default=Urgency.ON_TIME, description='ON_TIME: ON_TIME\nAT_RISK: AT_RISK\nOVERDUE: OVERDUE', enum_type=Urgency, max_length=8)),
                ('details', fields.JSONField(default=dict, description="What the request asks, by kind (a correction's field and value, an erasure's rows).", encoder=JSON_DUMPS, decoder=loads)),
                ('reason', fields.CharField(default='', description="Why it was rejected, or what was done (staff's words, shown to the user).", max_length=500)),
                ('decided_by', fields.ForeignKeyField('models.Account', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_requests', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'data_request', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One right exercised, from filing to answer: the row is the promise (and its clock).'},
            bases=['Model'],
        ),
    ]
