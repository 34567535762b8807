"""Searching posts: the colour count, and indexes for the search language.

- color_count, empty until counted (`manage.py count_colors` fills it for
  posts made before this migration), with its partial index like the sort
  indexes'.
- The owner's posts version moves when color_count changes, as for every
  other column but the counters: a cached count of colors:<=16 must not
  outlive a backfill. The version trigger is installed again with the longer
  column list (migration 0003 explains the triggers).
- PostgreSQL only: trigram indexes (pg_trgm) for words and hashtags. Django
  searches a word with UPPER(column::text) LIKE UPPER('%word%'), so the title
  and description indexes are on that expression; hashtags are matched with
  a case-insensitive regular expression, which a trigram index on the column
  serves as it is. SQLite scans, which is fine at its sizes.
"""

import importlib
import pkgutil

from django.db import migrations, models

import posts.migrations

counters = importlib.import_module("posts.migrations.0003_counters")


def _previous_columns():
    """The version trigger's columns as the latest migration before this one
    left them (another may have added a column since 0003)."""
    this = __name__.rsplit(".", 1)[1]
    earlier = sorted(
        info.name for info in pkgutil.iter_modules(posts.migrations.__path__) if info.name < this
    )
    for name in reversed(earlier):
        module = importlib.import_module(f"posts.migrations.{name}")
        if getattr(module, "VERSIONED_COLUMNS", None):
            return tuple(module.VERSIONED_COLUMNS)
    return counters.VERSIONED_COLUMNS


PREVIOUS_COLUMNS = _previous_columns()
VERSIONED_COLUMNS = (*PREVIOUS_COLUMNS, "color_count")

TRIGRAM_INDEXES = (
    ("post_title_trgm", "(UPPER(title::text)) gin_trgm_ops"),
    ("post_description_trgm", "(UPPER(description::text)) gin_trgm_ops"),
    ("post_hashtags_trgm", "hashtags gin_trgm_ops"),
)


def _version_trigger(schema_editor, versioned):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [
            "DROP FUNCTION IF EXISTS posts_post_bump_owner_version() CASCADE",
            *counters._pg_version_sql(versioned),
        ]
    elif vendor == "sqlite":
        statements = [
            *(
                f"DROP TRIGGER IF EXISTS posts_post_version_{event}"
                for event in ("insert", "update", "delete")
            ),
            *counters._sqlite_version_sql(versioned),
        ]
    else:
        raise NotImplementedError(f"posts triggers need writing for {vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)


def version_color_count(apps, schema_editor):
    _version_trigger(schema_editor, VERSIONED_COLUMNS)


def unversion_color_count(apps, schema_editor):
    _version_trigger(schema_editor, PREVIOUS_COLUMNS)


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner
    # may create it without being a superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for name, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON posts_post USING gin ({expression}) "
            "WHERE kind = 'artwork'",
            params=None,
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("posts", "0005_license_bumps_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="color_count",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                condition=models.Q(("deleted_by_user", False), ("kind", "artwork")),
                fields=["owner", "color_count", "id"],
                include=("hidden_by_user", "hidden_by_mod", "file_format"),
                name="post_colors",
            ),
        ),
        migrations.RunPython(version_color_count, unversion_color_count),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
