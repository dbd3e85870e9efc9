from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.affected import AffectedScope
from models.notifications.inbox import NotificationKind
from models.rights.audit import StaffAction
from models.rights.requests import Urgency
from models.rights.shutdowns import ShutdownStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from importlib import import_module

# Enums that grew members (notification kinds, a staff action) and a field whose
# description changed: descriptions only, the tables left alone (see 0003).
DescriptionOnly = import_module("migrations.0003_data_subject_rights").DescriptionOnly


class Migration(migrations.Migration):
    dependencies = [('models', '0021_children')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServiceShutdown',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('purpose_code', fields.CharField(description='The scope: the consent purpose whose data goes.', max_length=64)),
                ('shutdown_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', null=True, db_constraint=True, to_field='id', related_name='shutdowns', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ShutdownStatus.SCHEDULED, description='SCHEDULED: SCHEDULED\nERASING: ERASING\nDONE: DONE', enum_type=ShutdownStatus, max_length=16)),
                ('kinds', fields.JSONField(description="The map's kinds it erases, in order, fixed when it was announced.", encoder=JSON_DUMPS, decoder=loads)),
                ('step', fields.IntField(default=0, description="The cursor's kind: an index into ``kinds``.")),
                ('cursor', fields.BigIntField(default=0, description="The cursor's last key done, in that kind.")),
                ('erased', fields.JSONField(description='Rows deleted so far, by kind.', encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_shutdown', 'app': 'models', 'pk_attr': 'id', 'table_description': "One announced shutdown of a part of the service, and its erasure's progress."},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Announcement',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT\nAUTHORITY_REPORT_AT_RISK: AUTHORITY_REPORT_AT_RISK\nAUTHORITY_REPORT_OVERDUE: AUTHORITY_REPORT_OVERDUE', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Campaign',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT\nAUTHORITY_REPORT_AT_RISK: AUTHORITY_REPORT_AT_RISK\nAUTHORITY_REPORT_OVERDUE: AUTHORITY_REPORT_OVERDUE', enum_type=NotificationKind, max_length=32),
        ),
        DescriptionOnly(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED\nNEW_SIGN_IN: NEW_SIGN_IN\nPOLICY_CHANGE: POLICY_CHANGE\nSECURITY_INCIDENT: SECURITY_INCIDENT\nSERVICE_SHUTDOWN: SERVICE_SHUTDOWN\nCONTACT_CODE: CONTACT_CODE\nCONTACT_CHANGED: CONTACT_CHANGED\nCONTACT_REMOVED: CONTACT_REMOVED\nDATA_REQUEST_DECIDED: DATA_REQUEST_DECIDED\nDATA_REQUEST_CODE: DATA_REQUEST_CODE\nDATA_REQUEST_AT_RISK: DATA_REQUEST_AT_RISK\nDATA_REQUEST_OVERDUE: DATA_REQUEST_OVERDUE\nDATA_REQUEST_EXTENDED: DATA_REQUEST_EXTENDED\nEXPORT_READY: EXPORT_READY\nERASURE_RECEIPT: ERASURE_RECEIPT\nAUTHORITY_REPORT_AT_RISK: AUTHORITY_REPORT_AT_RISK\nAUTHORITY_REPORT_OVERDUE: AUTHORITY_REPORT_OVERDUE', enum_type=NotificationKind, max_length=32),
        ),
        ops.AlterModelOptions(
            name='SecurityIncident',
            options={'table': 'security_incident', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An incident, what users were told of it, and its report to the supervisory'},
        ),
        DescriptionOnly(
            model_name='SecurityIncident',
            name='reported_at',
            field=fields.DatetimeField(description="When it was recorded here (and users' notification began).", auto_now=False, auto_now_add=True),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='affected',
            field=fields.CharEnumField(default=AffectedScope.ALL, description='ALL: ALL\nACCOUNTS: ACCOUNTS\nBOUND_TO_PROVIDER: BOUND_TO_PROVIDER', db_default=AffectedScope.ALL, enum_type=AffectedScope, max_length=24),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='affected_provider',
            field=fields.CharField(null=True, description='The identity provider whose bound accounts it affected (BOUND_TO_PROVIDER).', max_length=64),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='authority_reference',
            field=fields.CharField(null=True, description="The authority's reference for the report.", max_length=200),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='authority_report',
            field=fields.TextField(default='', description="What was reported (Art 33(3)), in the officer's words, naming no one.", db_default='', unique=False),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='authority_report_due_at',
            field=fields.DatetimeField(null=True, description='``detected_at`` + ACCORD_AUTHORITY_REPORT_HOURS (72).', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='authority_reported_at',
            field=fields.DatetimeField(null=True, description='When it was reported to the supervisory authority (stops the clock).', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='detected_at',
            field=fields.DatetimeField(null=True, description='When the controller became aware of it (NULL: recorded before the authority clock).', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='urgency',
            field=fields.CharEnumField(default=Urgency.ON_TIME, description='ON_TIME: ON_TIME\nAT_RISK: AT_RISK\nOVERDUE: OVERDUE', db_default=Urgency.ON_TIME, enum_type=Urgency, max_length=16),
        ),
        ops.AddField(
            model_name='SecurityIncident',
            name='urgency_notified',
            field=fields.CharEnumField(default=Urgency.ON_TIME, description='ON_TIME: ON_TIME\nAT_RISK: AT_RISK\nOVERDUE: OVERDUE', db_default=Urgency.ON_TIME, enum_type=Urgency, max_length=16),
        ),
        DescriptionOnly(
            model_name='StaffAuditEntry',
            name='action',
            field=fields.CharEnumField(description='READ_SUPPORT_THREAD: READ_SUPPORT_THREAD\nREAD_DATA_REQUEST: READ_DATA_REQUEST\nDECIDE_DATA_REQUEST: DECIDE_DATA_REQUEST\nEXTEND_DATA_REQUEST: EXTEND_DATA_REQUEST\nCORRECT: CORRECT\nERASE: ERASE\nREPORT_TO_AUTHORITY: REPORT_TO_AUTHORITY', enum_type=StaffAction, max_length=24),
        ),
    ]
