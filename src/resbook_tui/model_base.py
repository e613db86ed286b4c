"""The base of every model (models.py says why they are bound to no database)."""

from __future__ import annotations

import peewee


class BaseModel(peewee.Model):
    class Meta:
        database = None  # every query names the database it runs on
        legacy_table_names = False
