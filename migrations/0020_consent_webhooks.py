from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField
from models.rights.audit import StaffAction
from models.webhooks.outbox import DeliveryState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


# The staff actions grew MANAGE_CONSENT_WEBHOOK: a description only (see 0003).
DescriptionOnly = import_module("migrations.0003_data_subject_rights").DescriptionOnly


class Migration(migrations.Migration):
    dependencies = [('models', '0019_campaign_operator_actions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentWebhook',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2000)),
                ('purposes', fields.JSONField(description='Purpose codes: a decision about any of them is delivered here.', encoder=JSON_DUMPS, decoder=loads)),
                ('include_personal_data', fields.BooleanField(default=False, description="Whether the body names the ledger's subject (``account:<id>``) beside the pseudonym.")),
                ('enabled', fields.BooleanField(default=True, description='A disabled endpoint is promised no new events and sent nothing until enabled again.')),
                ('secret', SealedField(description='``whsec_<base64>``, sealed under ``SECRETS_SUBJECT``.', placeholders=())),
                ('last_sequence', fields.BigIntField(default=0, description='The sequence number of the last event promised here.')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('created_by', fields.BigIntField(null=True, description='The staff account that registered it (a plain id: it outlives that account).')),
            ],
            options={'table': 'consent_webhook', 'app': 'models', 'pk_attr': 'id', 'table_description': "One processor's endpoint: where, for which purposes, signed with which secret."},
            bases=['SealedModel'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webhook', fields.ForeignKeyField('models.ConsentWebhook', source_field='webhook_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('sequence', fields.BigIntField(description="The endpoint's own count: 1, 2, 3... in the order the events were recorded.")),
                ('message_id', fields.CharField(unique=True, description='``webhook-id``: the same for every attempt and replay, so a receiver can dedupe.', max_length=40)),
                ('subject_key', fields.CharField(description="The subject's pseudonym for this endpoint (see the module).", max_length=32)),
                ('subject', fields.CharField(null=True, description="The ledger's subject, only for an endpoint that asked for personal data.", max_length=80)),
                ('event_type', fields.CharField(max_length=32)),
                ('purpose_code', fields.CharField(max_length=64)),
                ('payload', fields.TextField(description="The body's ``data`` without the personal fields, as JSON (``body``).", unique=False)),
                ('state', fields.CharEnumField(default=DeliveryState.PENDING, description='PENDING: PENDING\nRETRYING: RETRYING\nDELIVERED: DELIVERED\nDEAD: DEAD', enum_type=DeliveryState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=16)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'unique_together': (('webhook', 'sequence'),), 'indexes': [Index(fields=['webhook_id', 'subject_key', 'state', 'sequence']), Index(fields=['webhook_id', 'state', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One consent event owed (or delivered) to one endpoint.'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='StaffAuditEntry',
            name='action',
            field=fields.CharEnumField(description='READ_SUPPORT_THREAD: READ_SUPPORT_THREAD\nREAD_DATA_REQUEST: READ_DATA_REQUEST\nDECIDE_DATA_REQUEST: DECIDE_DATA_REQUEST\nEXTEND_DATA_REQUEST: EXTEND_DATA_REQUEST\nCORRECT: CORRECT\nERASE: ERASE\nRETRY_DELETION: RETRY_DELETION\nPOSTPONE_DELETION: POSTPONE_DELETION\nRESUME_CAMPAIGN: RESUME_CAMPAIGN\nCANCEL_CAMPAIGN: CANCEL_CAMPAIGN\nMANAGE_CONSENT_WEBHOOK: MANAGE_CONSENT_WEBHOOK', enum_type=StaffAction, max_length=24),
        ),
    ]
