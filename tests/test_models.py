"""Every model field exists in the migrated schema with a compatible type."""

import peewee

from resbook_tui.db import POSTGRESQL, dialect
from resbook_tui.models import MODELS, JSONTextField, UTCDateTimeField
from resbook_tui.schema.catalog import read_catalog

# What a live column type may be for each kind of field, per dialect.
COMPATIBLE = {
    POSTGRESQL: {
        peewee.BigAutoField: {"bigint"},
        peewee.ForeignKeyField: {"bigint"},
        peewee.BigIntegerField: {"bigint"},
        peewee.IntegerField: {"integer"},
        peewee.CharField: {"character varying"},
        peewee.TextField: {"text"},
        peewee.BooleanField: {"boolean"},
        peewee.DateField: {"date"},
        UTCDateTimeField: {"timestamp with time zone"},
        JSONTextField: {"jsonb"},
    },
    "sqlite": {
        peewee.BigAutoField: {"INTEGER"},
        peewee.ForeignKeyField: {"INTEGER"},
        peewee.BigIntegerField: {"INTEGER"},
        peewee.IntegerField: {"INTEGER"},
        peewee.CharField: {"VARCHAR"},
        peewee.TextField: {"TEXT"},
        peewee.BooleanField: {"BOOLEAN"},
        peewee.DateField: {"DATE"},
        UTCDateTimeField: {"TIMESTAMP"},
        JSONTextField: {"JSON"},
    },
}


def _kind(field: peewee.Field) -> type:
    for kind in COMPATIBLE["sqlite"]:
        if type(field) is kind:
            return kind
    raise AssertionError(f"no compatibility rule for {type(field).__name__}")


def test_every_model_field_matches_the_migrated_schema(db):
    catalog = read_catalog(db, count_rows=False)
    rules = COMPATIBLE[dialect(db)]
    for model in MODELS:
        table = catalog.tables[model._meta.table_name]
        assert set(table.columns) == {f.column_name for f in model._meta.sorted_fields}, model
        for field in model._meta.sorted_fields:
            column = table.columns[field.column_name]
            base_type = column.type.split("(")[0]
            assert base_type in rules[_kind(field)], (model, field.name, column.type)
            assert column.not_null == (not field.null), (model, field.name)
