"""One index on a post's licence instead of two.

Django gives a character foreign key a second, LIKE-only index
(varchar_pattern_ops) besides the plain one. Nothing searches licences
with LIKE, and every write of a post (hide, unhide, each edit) updates
every index of the table, so the copy only cost time: it goes, and the
plain one stays under its own name for PROTECT's check on a licence's
deletion.
"""
from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0006_color_count_and_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
    ]
