"""Issue 11, item 7: what the counter triggers cost, against the user with
100,000 posts.

`run()` returns a Markdown section; `python -m bench counters` runs it alone.

The triggers (posts migration 0003) keep comment_count and reaction_count
exact and bump the owner's posts version that cached counts are keyed on.
Each write is timed with them, with a row-level version trigger in place of
the statement-level one (transition tables), and, as a reference, with the
tables' triggers disabled (`ALTER TABLE … DISABLE TRIGGER USER`, in the bench
database only; enabled again straight after).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator

from bench.harness import bench_owner, mark, median, p95, timed

RUNS = 40
ROUNDS = 4
BATCH = 128
BIG_UPDATE = 10_000
SEED_POSTS = 10_000
DRIFTED = 1_000
TARGET_HIDE_MS = 40
TARGET_QUERIES = 5
TABLES = ("posts_post", "posts_comment", "posts_reaction")
TRANSACTION_MARKERS = ("BEGIN", "COMMIT")

# The alternative measured against the statement-level version trigger: one
# upsert per changed row.
ROW_LEVEL_FUNCTION = """
CREATE FUNCTION bench_row_level_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO posts_ownerpostsversion AS v (owner_id, version) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END $$
"""


def _execute(*statements: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@contextlib.contextmanager
def _triggers_disabled(tables: tuple[str, ...] = TABLES) -> Iterator[None]:
    _execute(*(f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in tables))
    try:
        yield
    finally:
        _execute(*(f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in tables))


@contextlib.contextmanager
def _row_level_version_trigger() -> Iterator[None]:
    from posts.counters import versioned_columns

    changed = " OR ".join(
        f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in versioned_columns()
    )
    _execute(
        ROW_LEVEL_FUNCTION,
        "CREATE TRIGGER bench_row_level AFTER UPDATE ON posts_post FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION bench_row_level_bump()",
        "ALTER TABLE posts_post DISABLE TRIGGER posts_post_version_update",
    )
    try:
        yield
    finally:
        _execute(
            "ALTER TABLE posts_post ENABLE TRIGGER posts_post_version_update",
            "DROP FUNCTION bench_row_level_bump() CASCADE",
        )


def _alternating(send: Callable[[bool], object], runs: int, warm: bool = True) -> list[float]:
    """Milliseconds of `runs` calls send(True), send(False), … (after a
    warm-up pair if `warm`); ends on send(False)."""
    if warm:
        send(True)
        send(False)
    samples = []
    for number in range(runs):
        started = time.perf_counter()
        send(number % 2 == 0)
        samples.append((time.perf_counter() - started) * 1000)
    if runs % 2:
        send(False)  # leave the rows as they were
    return samples


def _live_ids(owner, count: int) -> list[int]:
    from pmd.selectors import live_artworks
    from posts.models import Post

    ids = list(
        live_artworks(owner=owner).order_by("-created_at", "-id").values_list("id", flat=True)
    )[:count]
    Post.objects.filter(pk__in=ids).update(hidden_by_user=False)
    return ids


def _hide_client(owner, ids: list[int]) -> Callable[[bool], None]:
    """send(hide): one 128-id hide or unhide request through Django's test client."""
    from django.test import Client

    client = Client()
    client.force_login(owner)

    def send(hide: bool) -> None:
        response = client.post(
            "/api/pmd/action",
            {"action": "hide" if hide else "unhide", "post_ids": ids},
            content_type="application/json",
        )
        assert response.status_code == 200 and response.json()["affected_count"] == len(ids)

    return send


def _hide_statements(owner, ids: list[int]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send = _hide_client(owner, ids)
    with CaptureQueriesContext(connection) as captured:
        send(True)
    statements = [query["sql"] for query in captured.captured_queries]
    send(False)
    return [sql for sql in statements if sql not in TRANSACTION_MARKERS]


def _sql_update(ids: list[int], runs: int, warm: bool = True) -> list[float]:
    """One committed UPDATE flipping hidden_by_user on `ids`, as a batch action's."""
    from django.db import connection, transaction

    def send(hide: bool) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE posts_post SET hidden_by_user = %s WHERE id = ANY(%s)", [hide, ids]
            )

    return _alternating(send, runs, warm)


def _social_inserts(post, fan, runs: int) -> dict[str, list[float]]:
    """One comment, one reaction, each in its own transaction (autocommit)."""
    from django.utils import timezone

    from posts.models import Comment, Reaction

    made: list = []

    def comment() -> None:
        made.append(Comment.objects.create(post=post, body="bench", created_at=timezone.now()))

    def reaction() -> None:
        emoji = f"b{len(made)}"
        made.append(
            Reaction.objects.create(post=post, user=fan, emoji=emoji, created_at=timezone.now())
        )

    try:
        return {"comment": timed(comment, runs), "reaction": timed(reaction, runs)}
    finally:
        for row in made:
            row.delete()


def _seed_batch(owner, fans, runs: int) -> list[float]:
    """The database side of one seed_demo batch: 1,000 posts, then their
    comments and reactions, three bulk inserts in one transaction (rolled
    back, so the bench data stays as it is)."""
    from django.db import transaction
    from django.utils import timezone

    from posts.demo import BATCH_SIZE, _social_for
    from posts.models import Comment, Post, Reaction

    rng = random.Random(11)
    now = timezone.now()

    class Rollback(Exception):
        pass

    def batch() -> None:
        posts = [
            Post(
                owner=owner,
                title=f"Bench {index}",
                created_at=now,
                width=16,
                height=16,
                file_format="png",
                file_bytes=100,
                art="bench/none.png",
            )
            for index in range(BATCH_SIZE)
        ]
        comments, reactions = _social_for(rng, posts, fans, now)
        with contextlib.suppress(Rollback), transaction.atomic():
            Post.objects.bulk_create(posts)
            Comment.objects.bulk_create(comments, batch_size=BATCH_SIZE)
            Reaction.objects.bulk_create(reactions, batch_size=BATCH_SIZE)
            raise Rollback

    return timed(batch, runs)


def _seed_demo(username: str) -> float:
    """Seconds for seed_demo's work on SEED_POSTS new posts (files included);
    the user and its files are removed afterwards."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from posts.demo import ensure_user, seed_posts
    from posts.models import Post
    from posts.public_ids import user_sqid

    user, _ = ensure_user(username=username, password="bench-seed-1", email="s@example.com")
    Post.objects.filter(owner=user).delete()
    started = time.perf_counter()
    seed_posts(owner=user, total=SEED_POSTS, seed=2026)
    seconds = time.perf_counter() - started
    Post.objects.filter(owner=user).delete()
    get_user_model().objects.filter(pk=user.pk).delete()
    shutil.rmtree(os.path.join(settings.PMD_VAULT_ROOT, "art", user_sqid(user.pk)), True)
    return seconds


def _table_client(owner):
    from django.test import Client

    client = Client()
    client.force_login(owner)
    return client


def _table_url(owner) -> str:
    from posts.public_ids import user_sqid

    return f"/u/{user_sqid(owner.pk)}/posts"


def _table_get(owner, client=None) -> None:
    client = client or _table_client(owner)
    response = client.get(_table_url(owner), headers={"HX-Request": "true"})
    assert response.status_code == 200


def _table_queries(owner) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _table_client(owner)
    _table_get(owner, client)  # the counts cached
    with CaptureQueriesContext(connection) as captured:
        _table_get(owner, client)
    return len(captured.captured_queries)


def _recount(owner, drift: int) -> tuple[float, dict[str, int], int]:
    from django.db import connection

    from posts.counters import recount

    if drift:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE posts_post SET comment_count = comment_count + 1, "
                "reaction_count = reaction_count + 2 WHERE id IN (SELECT id FROM posts_post "
                "WHERE owner_id = %s ORDER BY id LIMIT %s)",
                [owner.pk, drift],
            )
    started = time.perf_counter()
    result = recount(owner=owner)
    return time.perf_counter() - started, result.fixed, result.checked


def _trigger_time(sql: str, params: list, runs: int = 10) -> tuple[list[float], list[float]]:
    """Milliseconds of the statement and of the triggers it fired, as
    PostgreSQL's EXPLAIN ANALYZE reports them (the work done inside the
    statement, whatever else the machine is doing); each run rolled back."""
    import json

    from django.db import connection, transaction

    class Rollback(Exception):
        pass

    statement, triggers = [], []
    for _ in range(runs + 1):
        with contextlib.suppress(Rollback), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                (plan,) = cursor.fetchone()[0]
            raise Rollback
        plan = json.loads(plan) if isinstance(plan, str) else plan
        statement.append(plan["Execution Time"])
        triggers.append(sum(trigger["Time"] for trigger in plan.get("Triggers", [])))
    return statement[1:], triggers[1:]


VARIANTS = {
    "statement": contextlib.nullcontext,  # the triggers as installed
    "row": _row_level_version_trigger,
    "disabled": _triggers_disabled,
}


def _interleaved(
    measure: Callable[[], list[float]], variants: tuple[str, ...], rounds: int = ROUNDS
) -> dict[str, list[float]]:
    """Samples of `measure` under each variant, the variants taking turns
    (ABBA order), so a change in the shared machine's load hits them alike."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for number in range(rounds):
        order = variants if number % 2 == 0 else tuple(reversed(variants))
        for name in order:
            with VARIANTS[name]():
                samples[name] += measure()
    return samples


def run() -> str:
    from pmd.counts import owner_posts_version
    from pmd.selectors import PostQuery, live_artworks, matching_posts
    from posts.counters import missing_triggers
    from posts.demo import _fans

    assert not missing_triggers(), missing_triggers()
    owner = bench_owner()
    total = owner.posts.count()
    live = live_artworks(owner=owner).count()
    print(f"  counters: {total:,} posts of one user ({live:,} live)")
    ids = _live_ids(owner, BIG_UPDATE)
    batch = ids[:BATCH]
    fans = _fans()
    post = live_artworks(owner=owner).order_by("-created_at", "-id").first()
    per_round = RUNS // ROUNDS
    both = ("statement", "disabled")
    three = ("statement", "row", "disabled")

    statements = _hide_statements(owner, batch)
    send = _hide_client(owner, batch)
    hide = _interleaved(lambda: _alternating(send, per_round), three)
    update = _interleaved(lambda: _sql_update(batch, per_round), three)
    big = _interleaved(lambda: _sql_update(ids, 2, warm=False), three, rounds=2)
    comment: dict[str, list[float]] = {name: [] for name in both}
    reaction: dict[str, list[float]] = {name: [] for name in both}
    for number in range(ROUNDS):
        for name in both if number % 2 == 0 else tuple(reversed(both)):
            with VARIANTS[name]():
                inserts = _social_inserts(post, fans[0], per_round)
            comment[name] += inserts["comment"]
            reaction[name] += inserts["reaction"]
    seed_batch = _interleaved(lambda: _seed_batch(owner, fans, 2), both)
    seed_demo = _interleaved(lambda: [_seed_demo("bench_seed")], both, rounds=2)
    table_client = _table_client(owner)
    table = timed(lambda: _table_get(owner, table_client), RUNS)
    table_queries = _table_queries(owner)
    version_read = timed(lambda: owner_posts_version(owner.pk), RUNS)
    count_live = timed(lambda: live_artworks(owner=owner).count(), 5)
    filtered = PostQuery(owner=owner, visibility="visible", file_format="gif")
    count_filtered = timed(lambda: matching_posts(filtered).count(), 5)
    inside = {
        f"`UPDATE` of {BATCH} posts (hide)": _trigger_time(
            "UPDATE posts_post SET hidden_by_user = true WHERE id = ANY(%s)", [batch]
        ),
        f"`UPDATE` of {BIG_UPDATE:,} posts (hide)": _trigger_time(
            "UPDATE posts_post SET hidden_by_user = true WHERE id = ANY(%s)", [ids], runs=3
        ),
        "`INSERT` of one comment": _trigger_time(
            "INSERT INTO posts_comment (post_id, body, created_at, hidden_by_mod, "
            "deleted_by_owner) VALUES (%s, 'bench', now(), false, false)",
            [post.pk],
        ),
        "`INSERT` of one reaction": _trigger_time(
            "INSERT INTO posts_reaction (post_id, user_id, emoji, created_at) "
            "VALUES (%s, %s, 'bench', now())",
            [post.pk, fans[0].pk],
        ),
        "`INSERT` of 1,000 comments on 1,000 posts (a seed_demo batch's)": _trigger_time(
            "INSERT INTO posts_comment (post_id, body, created_at, hidden_by_mod, "
            "deleted_by_owner) SELECT id, 'bench', now(), false, false FROM posts_post "
            "WHERE owner_id = %s ORDER BY id LIMIT 1000",
            [owner.pk],
        ),
    }
    recount_clean, _, checked = _recount(owner, 0)
    recount_drift, fixed, _ = _recount(owner, DRIFTED)

    kinds = " · ".join(sql.split()[0] for sql in statements)
    hide_ms = median(hide["statement"])
    hide_ok = mark(hide_ms < TARGET_HIDE_MS and len(statements) <= TARGET_QUERIES)
    lines = [
        "## Counters true whoever writes",
        "",
        f"Database triggers (posts migration 0003) against one user with {total:,} posts "
        f"({live:,} live artworks). Each write is timed with the triggers as installed "
        "(statement-level, transition tables), with a row-level version trigger in place of "
        "the statement-level one, and with the three tables' triggers disabled (reference: "
        f"what the same write costs without them). The variants take turns, {ROUNDS} rounds "
        f"in ABBA order, {RUNS} samples each unless said otherwise; medians (p95) in ms.",
        "",
        "| write | triggers (statement-level) | row-level version trigger | no triggers | cost |",
        "|---|---|---|---|---|",
        _line(f"hide/unhide {BATCH} ids, Django test client in process", hide),
        _line(f"the batch action's `UPDATE` of {BATCH} rows alone (committed)", update),
        _line(f"one `UPDATE` of {BIG_UPDATE:,} rows (4 samples)", big),
        _line("insert one comment (its own transaction)", comment),
        _line("insert one reaction (its own transaction)", reaction),
        _line(
            "one seed_demo batch in the database: 1,000 posts, then their comments and "
            f"reactions ({2 * ROUNDS} samples)",
            seed_batch,
        ),
        _line(
            f"`seed_demo` of {SEED_POSTS:,} posts, images and files included, in s "
            "(2 samples; without triggers the counters stay 0)",
            seed_demo,
        ),
        "",
        "Inside the statement, as PostgreSQL's `EXPLAIN ANALYZE` reports it (the time its "
        "triggers took, whatever the machine's load; 10 runs each, 3 for the large "
        "`UPDATE`, rolled back), medians in ms:",
        "",
        "| statement | statement | of which triggers | share |",
        "|---|---|---|---|",
        *(
            f"| {label} | {median(total_ms):.2f} | {median(trigger_ms):.3f} "
            f"| {median(trigger_ms) / median(total_ms):.0%} |"
            for label, (total_ms, trigger_ms) in inside.items()
        ),
        "",
        f"- The {BATCH}-id hide: {hide_ms:.1f} ms, {len(statements)} queries ({kinds}) "
        f"{hide_ok} (targets < {TARGET_HIDE_MS} ms, ≤ {TARGET_QUERIES}); the triggers run "
        "inside the `UPDATE`, so they add time, never a query.",
        "- Statement-level triggers bump each owner's version once per statement and add "
        "each post's net count once per statement; a row-level version trigger updates "
        f"the owner's version row once per changed post ({BATCH} and {BIG_UPDATE:,} times "
        "above).",
        f"- Table partial, 32 rows, first page: {median(table):.1f} ms (p95 {p95(table):.1f}), "
        f"{table_queries} queries: session, user, the owner's posts version "
        f"({median(version_read):.2f} ms, a primary-key lookup), the page's rows. The cached "
        f"count it keys saves a `COUNT` of {median(count_live):.1f} ms (all {live:,} live "
        f"posts) or {median(count_filtered):.1f} ms (visible GIFs) on every view.",
        f"- `manage.py recount --user {owner.get_username()}` on {checked:,} posts: "
        f"{recount_clean:.1f} s with nothing to fix; {recount_drift:.1f} s after raw SQL "
        f"skewed {DRIFTED:,} posts' counters (fixed: comment_count on "
        f"{fixed['comment_count']:,}, reaction_count on {fixed['reaction_count']:,} posts).",
        f"- Load average at the end of the run: {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} cores, shared with other work).",
    ]
    return "\n".join(lines)


def _line(label: str, samples: dict[str, list[float]]) -> str:
    cells = []
    for name in ("statement", "row", "disabled"):
        values = samples.get(name)
        cells.append(f"{median(values):.2f} ({p95(values):.2f})" if values else "–")
    cost = median(samples["statement"]) - median(samples["disabled"])
    return f"| {label} | {' | '.join(cells)} | {cost:+.2f} |"
