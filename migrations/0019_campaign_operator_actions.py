from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.campaigns import CampaignStatus
from models.notifications.inbox import DeliveryStatus
from models.rights.audit import StaffAction
from tortoise import fields
from importlib import import_module

# Enum columns whose enum grew a member: recorded in the state, the table left alone (on
# SQLite a real AlterField rebuilds the table and loses its indexes; see 0002).
DescriptionOnly = import_module("migrations.0004_erasure_receipts_and_data_keys").DescriptionOnly
SqliteKeepsTable = import_module("migrations.0005_sealed_fields").SqliteKeepsTable


class WidenColumn(SqliteKeepsTable, ops.AlterField):
    """A notification's status may now read CANCELLED, longer than the column's 8 letters:
    PostgreSQL widens it to 16 (a varchar grown in place, no rewrite); SQLite's columns
    have no length."""


class Migration(migrations.Migration):
    dependencies = [('models', '0018_consent_anchors')]

    initial = False

    operations = [
        DescriptionOnly(
            model_name='Campaign',
            name='status',
            field=fields.CharEnumField(default=CampaignStatus.FANNING_OUT, description='FANNING_OUT: FANNING_OUT\nDELIVERING: DELIVERING\nDONE: DONE\nCANCELLED: CANCELLED', enum_type=CampaignStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Campaign',
            name='cancel_reason',
            field=fields.CharField(default='', description='Why an operator cancelled it, in their words (who did is in the staff audit log).', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='Campaign',
            name='cancelled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Campaign',
            name='progressed_at',
            field=fields.DatetimeField(null=True, description='When a fan-out or delivery batch last moved it on (NULL: none yet).', auto_now=False, auto_now_add=False),
        ),
        WidenColumn(
            model_name='Notification',
            name='status',
            field=fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nCANCELLED: CANCELLED', enum_type=DeliveryStatus, max_length=16),
        ),
        DescriptionOnly(
            model_name='StaffAuditEntry',
            name='action',
            field=fields.CharEnumField(description='READ_SUPPORT_THREAD: READ_SUPPORT_THREAD\nREAD_DATA_REQUEST: READ_DATA_REQUEST\nDECIDE_DATA_REQUEST: DECIDE_DATA_REQUEST\nEXTEND_DATA_REQUEST: EXTEND_DATA_REQUEST\nCORRECT: CORRECT\nERASE: ERASE\nRETRY_DELETION: RETRY_DELETION\nPOSTPONE_DELETION: POSTPONE_DELETION\nRESUME_CAMPAIGN: RESUME_CAMPAIGN\nCANCEL_CAMPAIGN: CANCEL_CAMPAIGN', enum_type=StaffAction, max_length=24),
        ),
    ]
