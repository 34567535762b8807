"""A post's licence is one of the columns whose change bumps its owner's
posts version (the licence filter's cached counts are keyed on it): the
version triggers of 0003, reinstalled with license_id. On SQLite this also
puts back the triggers that 0004's table rebuild dropped."""

import importlib

from django.db import migrations

counters = importlib.import_module("posts.migrations.0003_counters")

VERSIONED_COLUMNS = (*counters.VERSIONED_COLUMNS, "license_id")
SQLITE_VERSION_TRIGGERS = (
    "posts_post_version_insert",
    "posts_post_version_delete",
    "posts_post_version_update",
)


def _drop(vendor):
    if vendor == "postgresql":
        # CASCADE drops the triggers that call the function.
        return ["DROP FUNCTION IF EXISTS posts_post_bump_owner_version() CASCADE"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_VERSION_TRIGGERS]


def _install(vendor, columns):
    if vendor == "postgresql":
        return counters._pg_version_sql(columns)
    if vendor == "sqlite":
        return counters._sqlite_version_sql(columns)
    raise NotImplementedError(f"posts counters need triggers written for {vendor}")


def reinstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in [*_drop(vendor), *_install(vendor, VERSIONED_COLUMNS)]:
        schema_editor.execute(sql, params=None)


def back(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        # 0004's reverse rebuilds posts_post, which SQLite refuses while the
        # counters' triggers name it: all go, and 0004 puts them back after.
        statements = counters._sqlite_drop_sql()
    else:
        statements = [*_drop(vendor), *_install(vendor, counters.VERSIONED_COLUMNS)]
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("posts", "0004_licenses"),
    ]

    operations = [
        migrations.RunPython(reinstall, back),
    ]
