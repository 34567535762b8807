"""Issue 3: the dashboard table and the JSON list at 100,000 posts, beside
Django admin's changelist of the same posts."""

from __future__ import annotations

import math

from bench.harness import bench_owner, mark, median, p95, timed

RUNS = 20
SIZES = (32, 512)
TARGET_MS = {32: 30, 512: 200}


def _queries(client, url, headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, headers=headers)
    return len(captured.captured_queries)


def run() -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from bench import admin_peer
    from pmd.selectors import PostQuery, encode_cursor, live_artworks
    from posts.models import SORT_FIELDS, Post
    from posts.public_ids import user_sqid

    owner = bench_owner()
    staff, _ = get_user_model().objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin_peer.PeerPostAdmin.owner_id = owner.pk
    client, admin_client = Client(), Client()
    client.force_login(owner)
    admin_client.force_login(staff)
    total = live_artworks(owner=owner).count()
    base = f"/u/{user_sqid(owner.pk)}/posts"
    partial = {"HX-Request": "true"}
    rows, ratios, worst = [], [], {}
    # The changelist's `o` counts the action checkbox as column 0.
    admin_index = {key: index + 1 for index, (key, _) in enumerate(admin_peer.PEER_COLUMNS)}
    print(f"  table: {total:,} live posts, {len(SORT_FIELDS)} sorts x {SIZES} x first/last")
    with override_settings(ROOT_URLCONF="bench.admin_peer"):
        for sort in SORT_FIELDS:
            for size in SIZES:
                last = math.ceil(total / size)
                admin_peer.PeerPostAdmin.list_per_page = size
                direction = "asc" if sort in ("title", "description", "format") else "desc"
                sign = "" if direction == "asc" else "-"
                for position, number in (("first", 1), ("last", last)):
                    url = f"{base}?sort={sort}&dir={direction}&size={size}&page={number}"
                    samples = timed(lambda url=url: client.get(url, headers=partial), RUNS)
                    queries = _queries(client, url, partial)
                    admin_url = f"/peer-admin/posts/post/?o={sign}{admin_index[sort]}&p={number}"
                    peer = timed(lambda u=admin_url: admin_client.get(u), RUNS)
                    ratio = median(samples) / median(peer)
                    ratios.append(ratio)
                    worst[(sort, size, position)] = median(samples)
                    rows.append(
                        f"| {sort} {direction} | {size} | {position} ({number:,}) "
                        f"| {median(samples):.1f} | {p95(samples):.1f} | {queries} "
                        f"| {median(peer):.1f} | {ratio:.2f} "
                        f"| {mark(median(samples) < TARGET_MS[size] and ratio < 1)} |"
                    )
        api = []
        last_post = (
            live_artworks(owner=owner).order_by("created_at", "id").values("id", "created_at")[512]
        )
        cursor = encode_cursor(Post(pk=last_post["id"], created_at=last_post["created_at"]))
        for position, query in (("first", ""), ("last", f"&cursor={cursor}")):
            url = f"/api/pmd/posts?limit=512{query}"
            samples = timed(lambda url=url: client.get(url), RUNS)
            queries = _queries(client, url, {})
            api.append(
                f"| {position} | {median(samples):.1f} | {p95(samples):.1f} | {queries} "
                f"| {mark(median(samples) < TARGET_MS[512])} |"
            )

    balance = []
    for sort in SORT_FIELDS:
        for size in SIZES:
            first, last = worst[(sort, size, "first")], worst[(sort, size, "last")]
            balance.append(last / first)
    slowest = max(worst, key=worst.get)
    explain = _explain(owner, PostQuery, slowest, total)
    lines = [
        "## Dashboard table",
        "",
        f"{total:,} live artworks of one user (100,000 posts seeded; playlists and deleted "
        f"posts excluded). HTMX table partial through Django's test client, in process, "
        f"{RUNS} requests each after a warm-up; times in ms. Peer: Django admin's changelist "
        "of the same posts with the same columns, sort and `list_per_page`, same run.",
        "",
        "| sort | rows | page | PMD median | PMD p95 | queries | admin median | PMD/admin | ok |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"- Targets: 32 rows < 30 ms, 512 rows < 200 ms at any page and sort; last page within "
        f"1.5x of the first (worst here: {max(balance):.2f}x {mark(max(balance) <= 1.5)}); "
        f"faster than the admin everywhere (worst ratio {max(ratios):.2f} "
        f"{mark(max(ratios) < 1)}).",
        "- Queries per request: session, user, the owner's posts version, one for the page's "
        "rows (the counts are cached per owner and filter under that version, which database "
        "triggers bump whenever the owner's posts change).",
        "",
        "### `GET /api/pmd/posts?limit=512`",
        "",
        "| cursor page | median | p95 | queries | ok |",
        "|---|---|---|---|---|",
        *api,
        "",
        explain,
    ]
    return "\n".join(lines)


def _explain(owner, post_query, slowest, total) -> str:
    from django.db import connection

    from pmd.selectors import matching_posts, table_ordering, table_page
    from posts.models import Post

    sort, size, _ = slowest
    middle = math.ceil(total / size) // 2
    plans = []
    for label, number in (("deepest page (the middle)", middle), ("last page", None)):
        query = post_query(
            owner=owner, sort=sort, direction="desc", size=size, page=number or 10**9
        )
        page = table_page(query)
        offset = (page.number - 1) * size
        reverse = offset > total // 2
        order = table_ordering(sort, "asc" if reverse else "desc")
        start = total - offset - size if reverse else offset
        ids = (
            matching_posts(query)
            .order_by(*order)
            .values("id")[max(start, 0) : max(start, 0) + size]
        )
        plan = Post.objects.filter(id__in=ids).explain(analyze=True, buffers=True)
        plans.append(
            f"{sort} desc, {size} rows, {label} (page {page.number:,}):\n\n```\n{plan}\n```"
        )
    assert connection.vendor == "postgresql"
    return "### EXPLAIN ANALYZE, slowest sort\n\n" + "\n\n".join(plans)
