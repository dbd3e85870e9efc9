from importlib import import_module

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.keys.sealed_fields import SealedField, SealedJSONField
from tortoise import fields
from tortoise.indexes import Index

# The content tables' columns now hold sealed text: TEXT on PostgreSQL, as they are on SQLite
# (see 0005). ``accord migrate`` seals what they held (``models.keys.backfill``).
SealColumn = import_module("migrations.0005_sealed_fields").SealColumn


class SealJSONColumn(ops.AlterField):
    """A JSON column that now holds sealed text. PostgreSQL turns its jsonb into the JSON's
    text (which ``accord migrate`` then seals); SQLite stores JSON as text already. Tortoise
    does not alter a column's type itself (jsonb to TEXT)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        await self._retype(new_state, app_label, state_editor, "TEXT")

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        await self._retype(old_state, app_label, state_editor, "JSONB")

    async def _retype(self, state, app_label, state_editor, to):
        if state_editor is None or state_editor.DIALECT == "sqlite":
            return
        model = state.apps.get_model(f"{app_label}.{self.model_name}")
        column = model._meta.fields_map[self.name].source_field or self.name
        await state_editor._run_sql(
            f'ALTER TABLE "{model._meta.db_table}" ALTER COLUMN "{column}" '
            f'TYPE {to} USING "{column}"::{to.lower()}'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0006_key_store')]

    initial = False

    operations = [
        SealColumn(
            model_name='ClickRecord',
            name='client_address',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='ClickRecord',
            name='link',
            field=SealedField(),
        ),
        SealColumn(
            model_name='ClickRecord',
            name='user_agent',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='Device',
            name='model',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='Device',
            name='os_version',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='ErrorReport',
            name='client_address',
            field=SealedField(default=''),
        ),
        SealJSONColumn(
            model_name='ErrorReport',
            name='device_config',
            field=SealedJSONField(default=dict),
        ),
        SealColumn(
            model_name='ErrorReport',
            name='message',
            field=SealedField(),
        ),
        SealColumn(
            model_name='ErrorReport',
            name='stack',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='Favorite',
            name='note',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='Feedback',
            name='body',
            field=SealedField(),
        ),
        SealColumn(
            model_name='Feedback',
            name='subject',
            field=SealedField(blind_index=('subject_index', 'feedback subject')),
        ),
        ops.AddField(
            model_name='Feedback',
            name='subject_index',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddIndex(
            model_name='Feedback',
            index=Index(fields=['subject_index', 'visibility']),
        ),
        # The index over the plain subject (0001's db_index): sealed text is never looked up.
        ops.RunSQL(
            'DROP INDEX IF EXISTS "idx_feedback_subject_c0003f"',
            reverse_sql='CREATE INDEX "idx_feedback_subject_c0003f" ON "feedback" ("subject")',
        ),
        SealColumn(
            model_name='Passkey',
            name='name',
            field=SealedField(),
        ),
        SealJSONColumn(
            model_name='QuestionnaireAnswer',
            name='answers',
            field=SealedJSONField(),
        ),
        SealColumn(
            model_name='SearchRecord',
            name='client_address',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='SearchRecord',
            name='keywords',
            field=SealedField(),
        ),
        SealColumn(
            model_name='SearchRecord',
            name='user_agent',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='SupportMessage',
            name='body',
            field=SealedField(),
        ),
        SealColumn(
            model_name='SupportThread',
            name='order_ref',
            field=SealedField(default=''),
        ),
        SealColumn(
            model_name='SupportThread',
            name='subject',
            field=SealedField(),
        ),
    ]
