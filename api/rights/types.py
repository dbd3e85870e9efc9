"""GraphQL types of the rights domain: the map of personal data, as declared in
``models.rights.data_map`` (never written twice)."""

from __future__ import annotations

import strawberry

from accord.settings import PREFIX, Settings
from api.consent.types import LegalBasis
from models.rights import data_map

strawberry.enum(data_map.DataCategory, description="A category of personal data.")
strawberry.enum(
    data_map.Erasure,
    name="ErasureMethod",
    description="What deleting the account does with a kind of personal data.",
)
strawberry.enum(
    data_map.Export, name="ExportMethod", description="Whether an export of your data holds it."
)
DataCategory = data_map.DataCategory
ErasureMethod = data_map.Erasure
ExportMethod = data_map.Export


@strawberry.type(description="A field that erasure keeps but rewrites, and what it becomes.")
class ErasedField:
    field: str
    becomes: str


@strawberry.type(description="The setting that governs a retention, and its value here.")
class RetentionSetting:
    name: str = strawberry.field(description="The environment variable, e.g. ACCORD_...")
    value: str


@strawberry.type(description="One kind of personal data: a record of processing (GDPR Art 30).")
class PersonalDataKind:
    kind: str
    table: str
    fields: list[str] = strawberry.field(description="The fields that hold personal data.")
    categories: list[DataCategory]
    purposes: list[str] = strawberry.field(description="Codes of the purposes it serves.")
    legal_basis: LegalBasis
    retention: str
    retention_setting: RetentionSetting | None
    found_by: list[str] = strawberry.field(
        description="How a data subject's rows are found: `field: what it matches`."
    )
    erasure: ErasureMethod
    erased_fields: list[ErasedField] = strawberry.field(
        description="ANONYMISE, PSEUDONYMISE, KEEP_AS_TOMBSTONE: what each kept field becomes."
    )
    erasure_note: str
    deletion_step: str = strawberry.field(
        description="The step of an account deletion that erases it."
    )
    export: ExportMethod
    export_note: str

    @classmethod
    def of(cls, entry: data_map.PersonalData, settings: Settings) -> PersonalDataKind:
        setting = None
        if entry.retention_setting is not None:
            setting = RetentionSetting(
                name=PREFIX + entry.retention_setting.upper(),
                value=str(getattr(settings, entry.retention_setting)),
            )
        return cls(
            kind=entry.kind,
            table=entry.table,
            fields=list(entry.fields),
            categories=list(entry.categories),
            purposes=list(entry.purposes),
            legal_basis=entry.legal_basis,
            retention=entry.retention,
            retention_setting=setting,
            found_by=list(entry.found_by),
            erasure=entry.erasure,
            erased_fields=[ErasedField(field=f, becomes=b) for f, b in entry.anonymised.items()],
            erasure_note=entry.erasure_note,
            deletion_step=str(entry.step),
            export=entry.export,
            export_note=entry.export_note,
        )


@strawberry.type(description="A table that holds no personal data, and why.")
class TableWithoutPersonalData:
    table: str
    reason: str


@strawberry.type(
    description="Where personal data lives, why, how long, and how it is erased and exported."
)
class DataMap:
    kinds: list[PersonalDataKind]
    tables_without_personal_data: list[TableWithoutPersonalData]
