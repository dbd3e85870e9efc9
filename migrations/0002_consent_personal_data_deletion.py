from tortoise import migrations
from tortoise.migrations import operations as ops
from models.consent import EventKind, Source
from models.deletion import DeletionStatus
from models.feedback import FeedbackKind, Visibility
from models.notifications import Channel, NotificationKind
from models.purposes import LegalBasis
from models.support import ThreadStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccountNameQuarantine',
            fields=[
                ('name_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('until', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account_name_quarantine', 'app': 'models', 'pk_attr': 'name_hash'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClickRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='click_records', on_delete=OnDelete.CASCADE)),
                ('device_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('link', fields.CharField(max_length=2048)),
                ('client_address', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('recorded_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'click_record', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
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
                ('kind', fields.CharEnumField(description='GRANTED: GRANTED\nWITHDRAWN: WITHDRAWN\nPOLICY_ACCEPTED: POLICY_ACCEPTED\nDEVICE_LINKED: DEVICE_LINKED\nREKEYED: REKEYED', enum_type=EventKind, max_length=24)),
                ('purpose_code', fields.CharField(null=True, max_length=64)),
                ('policy_version', fields.CharField(null=True, max_length=32)),
                ('source', fields.CharEnumField(description='WEB: WEB\nIOS: IOS\nANDROID: ANDROID\nAPI: API\nSUPPORT: SUPPORT', enum_type=Source, max_length=16)),
                ('device_id', fields.CharField(null=True, max_length=128)),
                ('client_timestamp', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('server_timestamp', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('idempotency_key', fields.CharField(max_length=36)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('client_address', fields.CharField(default='', description='Truncated: /24 for IPv4, /48 for IPv6.', max_length=64)),
                ('detail', fields.CharField(default='', description='What a REKEYED event carried over (empty for every other kind).', db_default='', max_length=200)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'consent_event', 'app': 'models', 'unique_together': (('subject', 'seq'), ('subject', 'idempotency_key')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeletionRequest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='deletion_request', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=DeletionStatus.PENDING, description='PENDING: PENDING\nRUNNING: RUNNING\nFAILED: FAILED\nDONE: DONE\nCANCELLED: CANCELLED', enum_type=DeletionStatus, max_length=16)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, description='When the sweeper may enqueue it next (due date, then backoff after a failure).', auto_now=False, auto_now_add=False)),
                ('step', fields.CharField(default='', description='The last step finished, for operators (the steps themselves need no bookmark).', max_length=32)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('lease_token', fields.CharField(null=True, max_length=32)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', description="The user's own words, erased when the deletion completes.", max_length=500)),
            ],
            options={'table': 'deletion_request', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Device',
            fields=[
                ('device_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharField(default='', max_length=32)),
                ('model', fields.CharField(default='', max_length=100)),
                ('os_version', fields.CharField(default='', max_length=50)),
                ('app_version', fields.CharField(default='', max_length=50)),
                ('registered_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'device', 'app': 'models', 'pk_attr': 'device_id'},
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
            name='ErrorReport',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='error_reports', on_delete=OnDelete.CASCADE)),
                ('device_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('message', fields.TextField(unique=False)),
                ('stack', fields.TextField(default='', unique=False)),
                ('device_config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('app_version', fields.CharField(default='', max_length=50)),
                ('client_address', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'error_report', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Favorite',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='favorites', on_delete=OnDelete.CASCADE)),
                ('item_type', fields.CharField(max_length=64)),
                ('item_id', fields.CharField(max_length=128)),
                ('note', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'favorite', 'app': 'models', 'unique_together': (('account', 'item_type', 'item_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.Account', source_field='author_id', null=True, description="Null once the author's account is deleted and the item was kept anonymised.", db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharEnumField(description='FEEDBACK: FEEDBACK\nCOMMENT: COMMENT\nSUGGESTION: SUGGESTION\nCOMPLAINT: COMPLAINT\nRATING: RATING\nERROR_REPORT: ERROR_REPORT', enum_type=FeedbackKind, max_length=16)),
                ('subject', fields.CharField(db_index=True, max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('rating', fields.SmallIntField(null=True)),
                ('visibility', fields.CharEnumField(default=Visibility.PRIVATE, description='PUBLIC: PUBLIC\nPRIVATE: PRIVATE', enum_type=Visibility, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'feedback', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='ACCOUNT_CANCELLED: ACCOUNT_CANCELLED\nACCOUNT_RESTORED: ACCOUNT_RESTORED', enum_type=NotificationKind, max_length=32)),
                ('channel', fields.CharEnumField(description='IN_APP: IN_APP\nEMAIL: EMAIL\nSMS: SMS', enum_type=Channel, max_length=8)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, description='When it left for its channel (IN_APP: at once). Null: still owed.', auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Picture',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.Account', source_field='owner_id', db_constraint=True, to_field='id', related_name='pictures', on_delete=OnDelete.CASCADE)),
                ('feedback', fields.ForeignKeyField('models.Feedback', source_field='feedback_id', null=True, db_constraint=True, to_field='id', related_name='pictures', on_delete=OnDelete.SET_NULL)),
                ('storage_key', fields.CharField(unique=True, max_length=200)),
                ('content_type', fields.CharField(max_length=32)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('size', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'picture', 'app': 'models', 'pk_attr': 'id'},
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
                ('change_categories', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('purpose_codes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
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
        ops.CreateModel(
            name='Questionnaire',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('questions', fields.JSONField(description='A list of {"id": str, "text": str}.', encoder=JSON_DUMPS, decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'questionnaire', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionnaireAnswer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('questionnaire', fields.ForeignKeyField('models.Questionnaire', source_field='questionnaire_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='questionnaire_answers', on_delete=OnDelete.CASCADE)),
                ('answers', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('answered_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'questionnaire_answer', 'app': 'models', 'unique_together': (('questionnaire', 'account'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SearchRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='search_records', on_delete=OnDelete.CASCADE)),
                ('device_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('keywords', fields.CharField(max_length=200)),
                ('client_address', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('recorded_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'search_record', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffAccess',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('models.Account', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='staff_reads', on_delete=OnDelete.SET_NULL)),
                ('subject_account', fields.ForeignKeyField('models.Account', source_field='subject_account_id', null=True, db_constraint=True, to_field='id', related_name='read_by_staff', on_delete=OnDelete.CASCADE)),
                ('resource', fields.CharField(max_length=64)),
                ('resource_id', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'staff_access', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who among staff read whose personal data, and when.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SupportThread',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, description="Null only for a thread retained (stripped) after its customer's account was deleted.", db_constraint=True, to_field='id', related_name='support_threads', on_delete=OnDelete.CASCADE)),
                ('assignee', fields.ForeignKeyField('models.Account', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='assigned_threads', on_delete=OnDelete.SET_NULL)),
                ('subject', fields.CharField(max_length=200)),
                ('order_ref', fields.CharField(default='', max_length=64)),
                ('status', fields.CharEnumField(default=ThreadStatus.OPEN, description='OPEN: OPEN\nCLOSED: CLOSED', enum_type=ThreadStatus, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'support_thread', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SupportMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('thread', fields.ForeignKeyField('models.SupportThread', source_field='thread_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('from_staff', fields.BooleanField(default=False)),
                ('staff', fields.ForeignKeyField('models.Account', source_field='staff_id', null=True, description="The staffer who wrote it (null for the customer's own messages).", db_constraint=True, to_field='id', related_name='support_replies', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'support_message', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Account',
            name='deletion_due_at',
            field=fields.DatetimeField(null=True, description='Set by cancellation: the account is deleted by the worker once this has passed.', auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['deletion_due_at']),
        ),
    ]
