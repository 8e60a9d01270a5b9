"""A full-text index on organisations' names, on PostgreSQL only.

The register finds awards by their recipient's or a partner's name with
``SearchVector("name", config="english")``; this index is built from the very same expression
so PostgreSQL uses it instead of parsing every organisation's name on every search. SQLite has
no GIN indexes and matches the text itself, so nothing is made there.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(SearchVector("name", config="english"), name="organisation_name_search_gin")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("governance", "Organisation"), INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("governance", "Organisation"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("governance", "0010_outbox_takes_over_the_email_sweep")]
    operations = [migrations.RunPython(forwards, backwards)]
