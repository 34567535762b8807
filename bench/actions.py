"""Issues 4 and 13: one batch action request of 128 posts, against a user with
10,000; hide and add a hashtag to 10,000 posts from the page.

`run()` returns a Markdown section; `python -m bench actions` runs it alone.

Each request changes 128 rows: the same 128 posts are hidden, then unhidden,
and so on. Measured twice: in process through Django's test client (where the
SQL is counted), and over HTTP against uvicorn with a logged-in session and
the CSRF token, as the page sends it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from bench.harness import bench_owner, mark, median, p95

BENCH_USER = "bench_actions"
BENCH_PASSWORD = "bench-actions-password-1"
BENCH_POSTS = 10_000
BATCH = 128
RUNS = 40
TARGET_MEDIAN_MS = 40
TARGET_QUERIES = 5
TARGET_HASHTAG_QUERIES = 6
# Added and removed again by each run, so the bench users' posts end as they began.
BENCH_HASHTAG = "bench_tag"
TRANSACTION_MARKERS = ("BEGIN", "COMMIT")


def _batch_ids(owner) -> list[int]:
    """128 live artworks, all made visible, so each request changes 128 rows."""
    from pmd.selectors import live_artworks
    from posts.models import Post

    ids = list(
        live_artworks(owner=owner).order_by("-created_at", "-id").values_list("id", flat=True)
    )
    ids = ids[:BATCH]
    Post.objects.filter(pk__in=ids).update(hidden_by_user=False)
    return ids


def _alternating(send: Callable[[str], object], actions: tuple[str, str]) -> list[float]:
    """Milliseconds of RUNS requests, after one warm-up pair."""
    send(actions[0])
    send(actions[1])
    samples = []
    for number in range(RUNS):
        started = time.perf_counter()
        send(actions[number % 2])
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _in_process(
    owner, ids: list[int], actions: tuple[str, str], hashtag: str | None = None
) -> tuple[list[float], dict[int, list[str]]]:
    """Timings of 128-post requests, and the SQL of a 1-post and a 128-post request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(owner)

    def send(action: str, batch: list[int] = ids) -> None:
        body = {"action": action, "post_ids": batch}
        if hashtag:
            body["hashtag"] = hashtag
        response = client.post("/api/pmd/action", body, content_type="application/json")
        data = response.json()
        assert response.status_code == 200 and data["affected_count"] == len(batch), data

    samples = _alternating(send, actions)
    statements = {}
    for batch in (ids[:1], ids):
        with CaptureQueriesContext(connection) as captured:
            send(actions[RUNS % 2], batch)
        # Read now: the next request's request_started signal empties the log.
        statements[len(batch)] = [query["sql"] for query in captured.captured_queries]
        send(actions[(RUNS + 1) % 2], batch)
    return samples, statements


def _over_http(ids: list[int], pool: bool = False) -> tuple[list[float], list[float]]:
    import httpx

    from testing.live import AsgiServer

    server = AsgiServer(DATABASE_POOL="1" if pool else "0").start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            # The floor: uvicorn and Django answering 401 without a database.
            floor = _alternating(lambda action: anonymous.post("/api/pmd/action"), ("", ""))
        with httpx.Client(base_url=server.url, timeout=10) as http:
            http.get("/accounts/login/")
            login = http.post(
                "/accounts/login/",
                data={
                    "username": BENCH_USER,
                    "password": BENCH_PASSWORD,
                    "csrfmiddlewaretoken": http.cookies["csrftoken"],
                },
            )
            assert login.status_code == 302, login.text[:500]

            def send(action: str) -> None:
                response = http.post(
                    "/api/pmd/action",
                    json={"action": action, "post_ids": ids},
                    headers={"X-CSRFToken": http.cookies["csrftoken"]},
                )
                data = response.json()
                assert response.status_code == 200 and data["affected_count"] == BATCH, data

            return _alternating(send, ("hide", "unhide")), floor
    finally:
        server.stop()


PAGE_POSTS = 10_000
PAGE_TARGET_SECONDS = 20


def _from_the_page(owner) -> dict[str, float]:
    """Seconds to hide, then unhide, PAGE_POSTS selected posts from the
    dashboard in Chromium: the page sends them in chunks of 128, one after
    another, with its progress bar, and refreshes the table at the end."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM beside Playwright
    from django.conf import settings
    from playwright.sync_api import expect, sync_playwright

    from pmd.selectors import live_artworks
    from posts.public_ids import user_sqid
    from testing.live import AsgiServer, session_cookies
    from testing.services import CHROMIUM, CHROMIUM_ARGS

    ids = list(
        live_artworks(owner=owner)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[:PAGE_POSTS]
    )
    key = f"pmd:selection:{user_sqid(owner.pk)}"
    server = AsgiServer(PMD_EVENT_CHANNEL_PREFIX=settings.PMD_EVENT_CHANNEL_PREFIX).start()
    seconds = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=server.url)
            context.add_cookies(
                [
                    {"name": k, "value": v, "url": server.url}
                    for k, v in session_cookies(owner).items()
                ]
            )
            page = context.new_page()
            page.set_default_timeout(120_000)

            def open_with_selection(page) -> None:
                page.goto(f"/u/{user_sqid(owner.pk)}/posts")
                page.evaluate(
                    "([key, ids]) => sessionStorage.setItem(key, JSON.stringify(ids))", [key, ids]
                )
                page.reload()
                expect(page.locator("[data-selected-count]")).to_have_text(f"{len(ids):,}")
                # The page's own chunked requests, as before jobs: past 512 posts it
                # would offer a job instead (bench/jobs.py measures that).
                page.evaluate(
                    "document.querySelector('[data-bulk-actions]').dataset.jobThreshold = 1e9"
                )

            for action, label, done in (
                ("hide", "Hide", "hidden"),
                ("unhide", "Unhide", "unhidden"),
            ):
                open_with_selection(page)
                started = time.monotonic()
                page.get_by_role("button", name=label, exact=True).click()
                expect(page.locator(".toast").filter(has_text=f"posts {done}")).to_be_visible(
                    timeout=120_000
                )
                seconds[action] = time.monotonic() - started
            for action, label, done in (
                ("add_hashtag", "Add hashtag…", f"Added #{BENCH_HASHTAG} to"),
                ("remove_hashtag", "Remove hashtag…", f"Removed #{BENCH_HASHTAG} from"),
            ):
                open_with_selection(page)
                page.get_by_role("button", name=label, exact=True).click()
                page.get_by_role("textbox", name="Hashtag", exact=True).fill(BENCH_HASHTAG)
                started = time.monotonic()
                page.keyboard.press("Enter")
                expect(
                    page.locator(".toast").filter(has_text=f"{done} {len(ids):,} posts")
                ).to_be_visible(timeout=120_000)
                seconds[action] = time.monotonic() - started
            browser.close()
    finally:
        server.stop()
    return seconds


def _row(label: str, samples: list[float], queries: str) -> str:
    ok = mark(median(samples) < TARGET_MEDIAN_MS)
    return f"| {label} | {median(samples):.1f} | {p95(samples):.1f} | {queries} | {ok} |"


def _secondary_indexes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE c.relname = 'posts_post' AND NOT i.indisprimary"
        )
        return cursor.fetchone()[0]


def run() -> str:
    from pmd.selectors import live_artworks

    owner = bench_owner(BENCH_USER, BENCH_POSTS, BENCH_PASSWORD)
    ids = _batch_ids(owner)
    total = live_artworks(owner=owner).count()
    print(f"  actions: {BATCH}-post requests against {total:,} live posts")
    hide, statements = _in_process(owner, ids, ("hide", "unhide"))
    one = [sql for sql in statements[1] if sql not in TRANSACTION_MARKERS]
    delete, _ = _in_process(owner, ids, ("delete", "restore"))
    tagging, tag_statements = _in_process(
        owner, ids, ("add_hashtag", "remove_hashtag"), BENCH_HASHTAG
    )
    tag_queries = [sql for sql in tag_statements[BATCH] if sql not in TRANSACTION_MARKERS]
    tag_kinds = " · ".join(sql.split()[0] for sql in tag_queries)
    tag_count_ok = mark(len(tag_queries) <= TARGET_HASHTAG_QUERIES)
    pooled, floor = _over_http(ids, pool=True)
    http, _ = _over_http(ids)
    page_owner = bench_owner()  # the 100,000-post user of the table bench
    page = _from_the_page(page_owner)
    chunks = -(-PAGE_POSTS // BATCH)
    queries = [sql for sql in statements[BATCH] if sql not in TRANSACTION_MARKERS]
    kinds = " · ".join(sql.split()[0] for sql in statements[BATCH])
    count_ok = mark(len(one) == len(queries) <= TARGET_QUERIES)
    lines = [
        "## Batch post actions",
        "",
        f"`POST /api/pmd/action` with {BATCH} post ids, against one user with {total:,} live "
        f"artworks ({BENCH_POSTS:,} posts seeded). {RUNS} requests each after a warm-up pair, "
        f"alternating the two actions so every request changes {BATCH} rows; times in ms.",
        "",
        "| request | median | p95 | queries | < 40 ms |",
        "|---|---|---|---|---|",
        _row(
            "hide/unhide, uvicorn over HTTP (session cookie + X-CSRFToken), pooled connections "
            "(the default)",
            pooled,
            "same",
        ),
        _row("the same with `DATABASE_POOL=0` (a new connection per request)", http, "same"),
        _row("hide/unhide, Django test client in process", hide, str(len(queries))),
        _row("delete/restore, Django test client in process", delete, str(len(queries))),
        _row(
            "add_hashtag/remove_hashtag, Django test client in process",
            tagging,
            str(len(tag_queries)),
        ),
        _row("floor: anonymous request (401, no database), uvicorn over HTTP", floor, "0"),
        "",
        f"- From the page in Chromium: {PAGE_POSTS:,} selected posts ({chunks} requests of at "
        f"most {BATCH}, one after another) hidden in {page['hide']:.1f} s and unhidden in "
        f"{page['unhide']:.1f} s {mark(max(page['hide'], page['unhide']) < PAGE_TARGET_SECONDS)}"
        f" (target < {PAGE_TARGET_SECONDS} s), against the user with 100,000 posts.",
        f"- The same {PAGE_POSTS:,} posts from the page, through the hashtag dialog: "
        f"#{BENCH_HASHTAG} added in {page['add_hashtag']:.1f} s and removed in "
        f"{page['remove_hashtag']:.1f} s "
        f"{mark(max(page['add_hashtag'], page['remove_hashtag']) < PAGE_TARGET_SECONDS)} "
        f"(target < {PAGE_TARGET_SECONDS} s).",
        f"- A {BATCH}-id add_hashtag request: {len(tag_queries)} queries {tag_count_ok} "
        f"(target ≤ {TARGET_HASHTAG_QUERIES}): {tag_kinds}. The `SELECT … FOR UPDATE` also "
        "reads each post's hashtags; the `UPDATE` is set-based (one concatenation for every "
        "post that lacks the hashtag; removal is one `CASE` over the posts' ids).",
        f"- Queries per request: {len(queries)} {count_ok} (target ≤ {TARGET_QUERIES}) for "
        f"{BATCH} posts, {len(one)} for 1 post: {kinds}. The statements are the session, the "
        "user, one `SELECT … FOR UPDATE` that validates and locks the posts, one `UPDATE`, "
        "one `INSERT` of the audit entry; BEGIN and COMMIT are the transaction's markers "
        "that Django logs beside them.",
        "- Over HTTP the time also includes uvicorn, the ASGI thread hop, taking a "
        "PostgreSQL connection (from the pool by default; opening a new one, with "
        f"`DATABASE_POOL=0`, cost {median(http) - median(pooled):.1f} ms more of the median "
        "here, same run), and JSON both ways; "
        "the bench client and the server share the machine's cores (load "
        f"average {os.getloadavg()[0]:.2f} at the end of the run).",
        "- Most of the database time is the `UPDATE`: `hidden_by_user` and `deleted_by_user` "
        f"are in the key, INCLUDE list or predicate of all {_secondary_indexes()} secondary "
        "indexes of posts_post, "
        "so each changed row writes an entry in every one of them (no HOT update).",
    ]
    return "\n".join(lines)
