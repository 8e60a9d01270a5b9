"""A full-text index for the public register's search, on PostgreSQL only.

The register searches ``SearchVector("title", "description", config="english")``; this
index is built from the very same expression so PostgreSQL uses it. SQLite has no GIN
indexes and the register falls back to a plain match there, so nothing is made on SQLite.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(SearchVector("title", "description", config="english"), name="award_search_gin")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("awards", "Award"), INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("awards", "Award"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("awards", "0003_condition_evidence_details_and_release_by")]
    operations = [migrations.RunPython(forwards, backwards)]
