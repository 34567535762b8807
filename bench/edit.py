"""Bulk edit, licences and the hashtag manager, against one user with 100,000
posts: a preview and an apply of an edit over 10,000 selected posts sent as
the page sends them (128 ids a request, one after another), one 128-id
set_license and edit request (time and queries), and a rename of a hashtag
on 5,000 posts with its undo.

`run()` returns a Markdown section; `python -m bench edit` runs it alone.
Every change is undone before it returns, so the posts end as they began.
"""

from __future__ import annotations

import time

from bench.harness import bench_owner, mark, median, p95

BENCH_USER = "bench_edit"
BENCH_POSTS = 100_000
SELECTED = 10_000
BATCH = 128
RUNS = 20
RENAMED = 5_000
PREVIEW_TARGET_S = 2.0
APPLY_TARGET_S = 10.0
RENAME_TARGET_S = 5.0
REQUEST_TARGET_MS = 40
TARGET_QUERIES = 6
TRANSACTION_MARKERS = ("BEGIN", "COMMIT")
EDIT = {"title": {"op": "suffix", "value": " ✨"}, "license": "CC-BY-4.0"}
TAG, NEW_TAG = "benchrename", "benchrenamed"


def _client(owner):
    from django.test import Client

    client = Client()
    client.force_login(owner)
    return client


def _post(client, url: str, body: dict) -> dict:
    response = client.post(url, body, content_type="application/json")
    data = response.json()
    assert response.status_code == 200, data
    return data


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]


def _edit_10000(client, ids: list[int]) -> dict[str, float]:
    """Preview, apply and undo of EDIT over `ids`, 128 a request; seconds."""
    started = time.perf_counter()
    previews = [
        _post(client, "/api/pmd/edit/preview", {**EDIT, "post_ids": part}) for part in _chunks(ids)
    ]
    preview = time.perf_counter() - started
    started = time.perf_counter()
    applied = [
        _post(client, "/api/pmd/edit", {**EDIT, "post_ids": part, "token": answer["token"]})
        for part, answer in zip(_chunks(ids), previews, strict=True)
    ]
    apply = time.perf_counter() - started
    started = time.perf_counter()
    for result in applied:
        _post(client, "/api/pmd/action/undo", {"activity_id": result["activity_id"]})
    undo = time.perf_counter() - started
    changed = sum(result["affected_count"] for result in applied)
    return {"preview": preview, "apply": apply, "undo": undo, "changed": changed}


def _requests_128(client, ids: list[int]) -> dict[str, tuple[list[float], list[str]]]:
    """Median timings and the SQL of 128-id set_license and edit requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = ids[:BATCH]
    out = {}

    def set_license(number: int) -> None:
        license = "CC0-1.0" if number % 2 else "CC-BY-SA-4.0"
        _post(
            client,
            "/api/pmd/action",
            {"action": "set_license", "post_ids": batch, "license": license},
        )

    def edit(number: int) -> float:
        # Odd runs add a "!", even runs take it off: each request changes 128 posts.
        title = (
            {"op": "suffix", "value": "!"}
            if number % 2
            else {"op": "regex", "find": "!$", "value": ""}
        )
        body = {"post_ids": batch, "title": title}
        token = _post(client, "/api/pmd/edit/preview", body)["token"]
        started = time.perf_counter()
        _post(client, "/api/pmd/edit", {**body, "token": token})
        return time.perf_counter() - started

    samples = []
    for number in range(RUNS + 1):
        started = time.perf_counter()
        set_license(number)
        samples.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        set_license(RUNS + 1)
    out["set_license"] = (samples[1:], [q["sql"] for q in captured.captured_queries])

    samples = [edit(number) * 1000 for number in range(1, RUNS + 2)]
    body = {"post_ids": batch, "title": {"op": "suffix", "value": "!"}}
    token = _post(client, "/api/pmd/edit/preview", body)["token"]
    with CaptureQueriesContext(connection) as captured:
        _post(client, "/api/pmd/edit", {**body, "token": token})
    statements = [q["sql"] for q in captured.captured_queries]
    edit(0)  # takes the "!" off again
    out["edit"] = (samples[1:], statements)
    return out


def _rename_5000(client, owner) -> dict[str, float]:
    from django.db.models import Value
    from django.db.models.functions import Concat

    from pmd.selectors import live_artworks
    from posts.models import Post

    # Left over by an earlier run stopped half-way.
    _strip_tags(
        list(live_artworks(owner=owner).filter(hashtags__contains=TAG).values_list("id", flat=True))
    )
    ids = list(live_artworks(owner=owner).order_by("id").values_list("id", flat=True)[:RENAMED])
    Post.objects.filter(pk__in=ids).update(hashtags=Concat("hashtags", Value(f" {TAG}")))
    try:
        started = time.perf_counter()
        result = _post(client, "/api/pmd/hashtags/rename", {"hashtag": TAG, "to": NEW_TAG})
        rename = time.perf_counter() - started
        started = time.perf_counter()
        undone = _post(client, "/api/pmd/action/undo", {"activity_id": result["activity_id"]})
        undo = time.perf_counter() - started
    finally:
        _strip_tags(ids)
    return {
        "rename": rename,
        "undo": undo,
        "renamed": result["affected_count"],
        "undone": undone["affected_count"],
    }


def _strip_tags(ids: list[int]) -> None:
    from posts.models import Post

    posts = list(Post.objects.filter(pk__in=ids, hashtags__contains=TAG).only("id", "hashtags"))
    for post in posts:
        post.hashtags = " ".join(w for w in post.hashtags.split() if w not in (TAG, NEW_TAG))
    Post.objects.bulk_update(posts, ["hashtags"], batch_size=1000)


def _row(label: str, samples: list[float], statements: list[str]) -> str:
    queries = [sql for sql in statements if not sql.startswith(TRANSACTION_MARKERS)]
    ok = median(samples) < REQUEST_TARGET_MS and len(queries) <= TARGET_QUERIES
    return (
        f"| {label} | {median(samples):.1f} | {p95(samples):.1f} | {len(queries)} "
        f"({' · '.join(sql.split()[0] for sql in queries)}) | {mark(ok)} |"
    )


def run() -> str:
    from pmd.selectors import live_artworks
    from testing.factories import ensure_licenses

    ensure_licenses()
    owner = bench_owner(BENCH_USER, BENCH_POSTS)
    total = live_artworks(owner=owner).count()
    ids = list(
        live_artworks(owner=owner)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[:SELECTED]
    )
    print(f"  edit: {len(ids):,} selected of {total:,} live posts")
    client = _client(owner)
    requests = _requests_128(client, ids)
    edit = _edit_10000(client, ids)
    rename = _rename_5000(client, owner)
    chunks = len(_chunks(ids))
    lines = [
        "## Bulk edit, licences and the hashtag manager",
        "",
        f"One user with {total:,} live artworks ({BENCH_POSTS:,} posts seeded); Django's test "
        "client in process, as the page sends the requests (one after another). Times in ms.",
        "",
        "| request (128 ids) | median | p95 | queries | < 40 ms, ≤ 6 queries |",
        "|---|---|---|---|---|",
        _row("`POST action` set_license", *requests["set_license"]),
        _row("`POST edit` (apply, with its preview's token)", *requests["edit"]),
        "",
        f"- Edit of {len(ids):,} selected posts (title suffix and licence, {chunks} requests): "
        f"preview {edit['preview']:.2f} s {mark(edit['preview'] <= PREVIEW_TARGET_S)} (target ≤ "
        f"{PREVIEW_TARGET_S:.0f} s), apply {edit['apply']:.2f} s "
        f"{mark(edit['apply'] <= APPLY_TARGET_S)} (target ≤ {APPLY_TARGET_S:.0f} s) changing "
        f"{edit['changed']:,} posts, undo {edit['undo']:.2f} s.",
        f"- Rename of a hashtag on {rename['renamed']:,} posts: {rename['rename']:.2f} s "
        f"{mark(rename['rename'] <= RENAME_TARGET_S)}, its undo ({rename['undone']:,} posts) "
        f"{rename['undo']:.2f} s {mark(rename['undo'] <= RENAME_TARGET_S)} (target ≤ "
        f"{RENAME_TARGET_S:.0f} s each).",
    ]
    return "\n".join(lines)
