"""One index on a post's licence instead of two.

Django gives a character foreign key a second, LIKE-only index
(varchar_pattern_ops) besides the plain one. Nothing searches licences
with LIKE, and every write of a post (hide, unhide, each edit) updates
every index of the table, so the copy only cost time: it goes, and the
plain one stays under its own name for PROTECT's check on a licence's
deletion.

The model's state changes as Django would write it; the database is changed
by hand, because Django's AlterField of a foreign key makes SQLite rebuild
posts_post, which breaks the triggers of migration 0003 that name it.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

# Django's names for the foreign key's two indexes (a hash of table and column).
PLAIN = "posts_post_license_id_974b1527"
LIKE = f"{PLAIN}_like"


def one_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = [
            f'DROP INDEX IF EXISTS "{LIKE}"',
            f'ALTER INDEX IF EXISTS "{PLAIN}" RENAME TO "post_license"',
        ]
    else:
        # SQLite made no LIKE copy, and cannot rename an index.
        statements = [
            f'DROP INDEX IF EXISTS "{PLAIN}"',
            'CREATE INDEX IF NOT EXISTS "post_license" ON "posts_post" ("license_id")',
        ]
    for sql in statements:
        schema_editor.execute(sql, params=None)


def two_indexes(apps, schema_editor):
    schema_editor.execute('DROP INDEX IF EXISTS "post_license"', params=None)
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{PLAIN}" ON "posts_post" ("license_id")', params=None
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE}" ON "posts_post" '
            '("license_id" varchar_pattern_ops)',
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0006_color_count_and_search_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="post",
                    name="license",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="posts",
                        to="posts.license",
                        to_field="identifier",
                    ),
                ),
                migrations.AddIndex(
                    model_name="post",
                    index=models.Index(fields=["license"], name="post_license"),
                ),
            ],
            database_operations=[migrations.RunPython(one_index, two_indexes)],
        ),
    ]
