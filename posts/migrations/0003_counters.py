"""Counters true whoever writes.

Database triggers, so that every write path is seen: the PMD, the admin's
change form and (bulk) delete, the ORM's save()/delete(), a queryset's
update()/delete() (which no signal sees), bulk_create, raw SQL.

- Comments and reactions keep posts_post.comment_count (visible comments
  only: neither hidden_by_mod nor deleted_by_owner) and
  reaction_count exact on insert, delete and update (a row moved to another
  post, a comment's flags flipped). Each statement adds its net change per
  post, in the writer's transaction, so concurrent writers never lose a count
  (the post row's lock orders them). A counter never goes below 0 because of
  earlier drift: the write goes through and `manage.py recount` repairs it.
- Posts bump their owner's row in posts_ownerpostsversion whenever a post is
  inserted, deleted or changed in any column but the three counters; the
  dashboard's cached counts are keyed on it (pmd/counts.py).

PostgreSQL: statement-level triggers with transition tables, so a 128-row
UPDATE bumps each owner once and a 1,000-row bulk insert of comments is one
UPDATE of the posts. SQLite has row-level triggers only.

SQLite drops a table's triggers when Django rebuilds the table (most
AlterField/AddField operations on SQLite): a later migration that changes
posts_post, posts_comment or posts_reaction must install them again
(tests/posts/test_counters.py checks they are all there).
"""

from django.db import migrations, models

# posts_post columns whose change bumps the owner's version: all of them but
# the id, the generated description_prefix and the counters (a test keeps
# this list in step with the model).
VERSIONED_COLUMNS = (
    "owner_id", "kind", "title", "description", "hashtags", "created_at", "width",
    "height", "frame_count", "file_format", "file_bytes", "art", "hidden_by_user",
    "hidden_by_mod", "deleted_by_user", "deleted_by_user_date",
)

VISIBLE_COMMENT = "NOT {row}hidden_by_mod AND NOT {row}deleted_by_owner"

# (table, counter column, condition for a row to count, with {row} the
# row's alias and a dot, or nothing)
COUNTERS = (
    ("posts_comment", "comment_count", VISIBLE_COMMENT),
    ("posts_reaction", "reaction_count", "TRUE"),
)


# --- PostgreSQL ---------------------------------------------------------------

def _pg_version_sql(versioned=VERSIONED_COLUMNS):
    # Later migrations that add a column call this again with their list.
    columns = ", ".join(f"{{0}}.{column}" for column in versioned)
    changed = (
        f"n.id IS NULL OR o.id IS NULL OR ({columns.format('n')}) "
        f"IS DISTINCT FROM ({columns.format('o')})"
    )
    # One upsert per statement; owners in order so concurrent statements
    # lock their rows in the same order.
    bump = """
        INSERT INTO posts_ownerpostsversion AS v (owner_id, version)
        SELECT DISTINCT owner_id, 1 FROM ({owners}) AS owners
        WHERE owner_id IS NOT NULL ORDER BY owner_id
        ON CONFLICT (owner_id) DO UPDATE SET version = v.version + 1;
    """
    updated_owners = (
        "SELECT x.owner_id FROM new_posts n FULL JOIN old_posts o ON o.id = n.id "
        f"CROSS JOIN LATERAL (VALUES (n.owner_id), (o.owner_id)) AS x(owner_id) WHERE {changed}"
    )
    function = f"""
        CREATE FUNCTION posts_post_bump_owner_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {bump.format(owners="SELECT owner_id FROM new_posts")}
            ELSIF TG_OP = 'DELETE' THEN
                {bump.format(owners="SELECT owner_id FROM old_posts")}
            ELSIF TG_OP = 'UPDATE' THEN
                {bump.format(owners=updated_owners)}
            ELSE
                UPDATE posts_ownerpostsversion SET version = version + 1;
            END IF;
            RETURN NULL;
        END
        $$;
    """
    return [
        function,
        "CREATE TRIGGER posts_post_version_insert AFTER INSERT ON posts_post "
        "REFERENCING NEW TABLE AS new_posts "
        "FOR EACH STATEMENT EXECUTE FUNCTION posts_post_bump_owner_version()",
        "CREATE TRIGGER posts_post_version_update AFTER UPDATE ON posts_post "
        "REFERENCING NEW TABLE AS new_posts OLD TABLE AS old_posts "
        "FOR EACH STATEMENT EXECUTE FUNCTION posts_post_bump_owner_version()",
        "CREATE TRIGGER posts_post_version_delete AFTER DELETE ON posts_post "
        "REFERENCING OLD TABLE AS old_posts "
        "FOR EACH STATEMENT EXECUTE FUNCTION posts_post_bump_owner_version()",
        "CREATE TRIGGER posts_post_version_truncate AFTER TRUNCATE ON posts_post "
        "FOR EACH STATEMENT EXECUTE FUNCTION posts_post_bump_owner_version()",
    ]


def _pg_counter_sql(table, counter, condition):
    counts = condition.format(row="")
    add = """
        UPDATE posts_post p SET {counter} = GREATEST(p.{counter} + d.n, 0)
        FROM ({delta}) AS d WHERE p.id = d.post_id;
    """
    inserted = f"SELECT post_id, count(*) AS n FROM new_rows WHERE {counts} GROUP BY post_id"
    deleted = f"SELECT post_id, -count(*) AS n FROM old_rows WHERE {counts} GROUP BY post_id"
    updated = (
        "SELECT post_id, sum(n) AS n FROM ("
        f"SELECT post_id, 1 AS n FROM new_rows WHERE {counts} "
        f"UNION ALL SELECT post_id, -1 AS n FROM old_rows WHERE {counts}"
        ") AS moves GROUP BY post_id HAVING sum(n) <> 0"
    )
    function = f"""
        CREATE FUNCTION {table}_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {add.format(counter=counter, delta=inserted)}
            ELSIF TG_OP = 'DELETE' THEN
                {add.format(counter=counter, delta=deleted)}
            ELSIF TG_OP = 'UPDATE' THEN
                {add.format(counter=counter, delta=updated)}
            ELSE
                UPDATE posts_post SET {counter} = 0 WHERE {counter} <> 0;
            END IF;
            RETURN NULL;
        END
        $$;
    """
    return [
        function,
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count()",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table} "
        "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count()",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count()",
        f"CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count()",
    ]


def _pg_drop_sql():
    functions = ["posts_post_bump_owner_version", *(f"{table}_count" for table, _, _ in COUNTERS)]
    # Dropping a function with CASCADE drops the triggers that call it.
    return [f"DROP FUNCTION IF EXISTS {name}() CASCADE" for name in functions]


# --- SQLite -------------------------------------------------------------------

def _sqlite_bump(owner, when="1"):
    # "WHERE" before "ON CONFLICT" keeps SQLite's parser from reading the
    # upsert's ON as a join constraint.
    return (
        f"INSERT INTO posts_ownerpostsversion (owner_id, version) SELECT {owner}, 1 "
        f"WHERE {when} ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;"
    )


def _sqlite_version_sql(versioned=VERSIONED_COLUMNS):
    columns = ", ".join(versioned)
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in versioned)
    return [
        "CREATE TRIGGER posts_post_version_insert AFTER INSERT ON posts_post "
        f"BEGIN {_sqlite_bump('NEW.owner_id')} END",
        "CREATE TRIGGER posts_post_version_delete AFTER DELETE ON posts_post "
        f"BEGIN {_sqlite_bump('OLD.owner_id')} END",
        f"CREATE TRIGGER posts_post_version_update AFTER UPDATE OF {columns} ON posts_post "
        f"WHEN {changed} BEGIN {_sqlite_bump('OLD.owner_id')} "
        f"{_sqlite_bump('NEW.owner_id', 'NEW.owner_id IS NOT OLD.owner_id')} END",
    ]


def _sqlite_counter_sql(table, counter, condition):
    old, new = condition.format(row="OLD."), condition.format(row="NEW.")
    add = f"UPDATE posts_post SET {counter} = {counter} + 1 WHERE id = NEW.post_id;"
    take = f"UPDATE posts_post SET {counter} = max({counter} - 1, 0) WHERE id = OLD.post_id;"
    return [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
        f"WHEN {new} BEGIN {add} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
        f"WHEN {old} BEGIN {take} END",
        # Only when the row moves to another post or starts or stops counting.
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table} "
        f"WHEN OLD.post_id IS NOT NEW.post_id OR ({old}) IS NOT ({new}) BEGIN "
        f"{take.removesuffix(';')} AND {old}; {add.removesuffix(';')} AND {new}; END",
    ]


def _sqlite_drop_sql():
    names = ["posts_post_version_insert", "posts_post_version_delete", "posts_post_version_update"]
    for table, _, _ in COUNTERS:
        names += [f"{table}_count_insert", f"{table}_count_delete", f"{table}_count_update"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def _statements(vendor, install):
    if vendor == "postgresql":
        if not install:
            return _pg_drop_sql()
        return _pg_version_sql() + [
            sql for counter in COUNTERS for sql in _pg_counter_sql(*counter)
        ]
    if vendor == "sqlite":
        if not install:
            return _sqlite_drop_sql()
        return _sqlite_version_sql() + [
            sql for counter in COUNTERS for sql in _sqlite_counter_sql(*counter)
        ]
    raise NotImplementedError(f"posts counters need triggers written for {vendor}")


def install_triggers(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('posts', '0002_sort_indexes_cover_moderation'),
    ]

    operations = [
        migrations.CreateModel(
            name='OwnerPostsVersion',
            fields=[
                ('owner_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('version', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
