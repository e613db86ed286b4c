"""The models match the migrated schema exactly, on both dialects: the same tables and
columns, compatible types, the same nullability and lengths, the same foreign keys (and
what a delete does), the same named indexes (unique, columns, partial) and constraints.

``verify`` proves the live schema is what the migrations make; this proves the models
(which every query is built from) describe that same schema."""

import re

import peewee

from resbook_tui.db import POSTGRESQL, dialect
from resbook_tui.dialects.catalog import HISTORY_TABLE
from resbook_tui.fields import JSONTextField, UTCDateTimeField
from resbook_tui.models import MODELS
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


def test_every_migrated_table_has_a_model(db):
    catalog = read_catalog(db, count_rows=False)
    assert set(catalog.tables) - {HISTORY_TABLE} == {m._meta.table_name for m in MODELS}


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
            length = re.search(r"\((\d+)\)", column.type)
            if isinstance(field, peewee.CharField):
                assert length and int(length[1]) == field.max_length, (model, field.name)


def test_foreign_keys_match_and_say_what_a_delete_does(db):
    catalog = read_catalog(db, count_rows=False)
    for model in MODELS:
        table = model._meta.table_name
        live = {
            c.definition
            for c in catalog.constraints.values()
            if c.table == table and c.kind == "FOREIGN KEY"
        }
        declared = {
            f"FOREIGN KEY ({f.column_name}) REFERENCES {f.rel_model._meta.table_name}"
            f"({f.rel_field.column_name}) ON DELETE {f.on_delete}"
            for f in model._meta.sorted_fields
            if isinstance(f, peewee.ForeignKeyField)
        }
        assert live == declared, table


def test_named_unique_constraints_match(db):
    catalog = read_catalog(db, count_rows=False)
    live = {
        (c.table, name, c.definition)
        for name, c in catalog.constraints.items()
        if c.kind == "UNIQUE" and c.table != HISTORY_TABLE
    }
    declared = set()
    for model in MODELS:
        for constraint in model._meta.constraints or ():
            match = re.fullmatch(r"CONSTRAINT (\w+) (UNIQUE \(.*\))", constraint.sql)
            assert match, constraint.sql
            declared.add((model._meta.table_name, match[1], match[2]))
    assert live == declared


def _live_indexes(db: peewee.Database, table: str) -> dict[str, peewee.IndexMetadata]:
    """The table's indexes that are not a constraint's own (primary key, UNIQUE)."""
    catalog_constraints = set(read_catalog(db, count_rows=False).constraints)
    return {
        i.name: i
        for i in db.get_indexes(table)
        if not i.name.startswith("sqlite_autoindex") and i.name not in catalog_constraints
    }


def test_named_indexes_match(db):
    for model in MODELS:
        table = model._meta.table_name
        live = _live_indexes(db, table)
        declared = {index._name: index for index in model._meta.indexes}
        assert set(live) == set(declared), table
        for name, index in declared.items():
            found = live[name]
            assert found.unique == index._unique, name
            assert (" WHERE " in found.sql.upper()) == (index._where is not None), name
            columns = [f.column_name for f in index._expressions if isinstance(f, peewee.Field)]
            if len(columns) == len(index._expressions):  # plain columns (not an expression)
                assert found.columns == columns, name
            else:
                assert "lower(" in found.sql.lower() and "trim(" in found.sql.lower(), name
