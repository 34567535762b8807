"""Downloads of more than 128 posts, in Chromium: the
selection split into parts of at most 128 in table order, each a normal
download request, within today's allowance."""

from __future__ import annotations

import json
import re

from django.utils import timezone
from playwright.sync_api import expect

from pmd.models import BatchDownloadRequest
from pmd.selectors import live_artworks, table_ordering
from posts.models import Post
from testing.factories import make_post, make_posts
from tests.pmd.bdr_helpers import make_bdr

# Every text the dialog's status line (a live region) showed, in order.
RECORD_STATUS = """
window.__status = [];
new MutationObserver(() => {
  const text = document.querySelector('[data-download-status]')?.textContent;
  if (text && window.__status.at(-1) !== text) window.__status.push(text);
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""
# Sorted by title, A to Z: neither the order the posts were made in nor the
# order "Select all" adds them to the selection (newest first).
BY_TITLE = "?sort=title&dir=asc"


def bdr_requests(page) -> list[dict]:
    """The bodies the page sends to POST /api/pmd/bdr, as it sends them."""
    sent: list[dict] = []
    page.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data))
            if request.method == "POST" and request.url.endswith("/api/pmd/bdr")
            else None
        ),
    )
    return sent


def select_all(page, count: int) -> None:
    page.get_by_role("button", name="Select all", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text(f"{count:,}")


def in_table_order(owner, sort: str = "title", direction: str = "asc") -> list[int]:
    """The owner's posts as the table orders them (the database's collation)."""
    ordering = table_ordering(sort, direction)
    return list(live_artworks(owner=owner).order_by(*ordering).values_list("id", flat=True))


def test_300_selected_posts_go_as_3_downloads_in_table_order_and_all_become_ready(
    open_dashboard, owner, celery_worker
):
    # One real artwork file that every post points at: 300 small ZIP entries.
    first = make_post(owner, title="Post 0")
    make_posts(owner, 299, art=first.art.name, file_bytes=first.file_bytes)
    page = open_dashboard(BY_TITLE, live=True, record=RECORD_STATUS)
    sent = bdr_requests(page)
    select_all(page, 300)
    split = page.get_by_role("button", name="Split into 3 downloads (uses 3 of today's 8)")
    expect(split).to_be_enabled()
    expect(page.locator("[data-download-reason]")).to_have_text("")
    split.click()

    dialog = page.get_by_role("dialog", name="Download 300 artworks in 3 parts")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Request 3 downloads", exact=True).click()
    expect(
        page.locator(".toast").filter(has_text="Requested 3 downloads of 300 artworks.")
    ).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-selected-count]")).to_have_text("0")

    # One after another, as the status line said.
    assert page.evaluate("window.__status") == [
        "Putting 300 posts in table order…",
        "Requesting download 1 of 3…",
        "Requesting download 2 of 3…",
        "Requesting download 3 of 3…",
    ]
    ordered = in_table_order(owner)
    assert [body["post_ids"] for body in sent] == [
        ordered[:128],
        ordered[128:256],
        ordered[256:],
    ]
    assert [(body["part"], body["parts"]) for body in sent] == [(1, 3), (2, 3), (3, 3)]
    parts = BatchDownloadRequest.objects.order_by("part_number")
    assert [(bdr.part_number, bdr.part_count, bdr.artwork_count) for bdr in parts] == [
        (1, 3, 128),
        (2, 3, 128),
        (3, 3, 44),
    ]

    # Each part arrives in the panel and becomes ready there, live.
    for bdr in parts:
        row = page.locator(f"#bdr-{bdr.pk}")
        expect(row.locator(".bdr-what")).to_have_text(
            f"Part {bdr.part_number} of 3 · {bdr.artwork_count} artworks"
        )
        expect(row).to_have_attribute("data-bdr-status", "ready", timeout=30_000)
        expect(
            row.get_by_role(
                "link",
                name=re.compile(
                    rf"^Download part {bdr.part_number} of 3, {bdr.artwork_count} artworks, "
                ),
            )
        ).to_be_visible()
    # One toast followed the split, from its request to its last part being ready.
    split_news = page.locator("#toasts .toast").filter(has_text="Requested 3 downloads")
    expect(split_news).to_contain_text("All 3 downloads are ready.")
    expect(page.locator(".toast").filter(has_text="Your download of")).to_have_count(0)
    expect(page.locator("[data-requests-left-text]")).to_have_text("5 of 8 requests left today")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_split_larger_than_todays_allowance_offers_the_posts_that_fit(open_dashboard, owner):
    posts = make_posts(owner, 300)
    for _ in range(6):
        make_bdr(owner, posts[:1])
    page = open_dashboard(BY_TITLE, live=True, record=RECORD_STATUS)
    sent = bdr_requests(page)
    select_all(page, 300)
    split = page.get_by_role("button", name="Split into 2 downloads (uses 2 of today's 2)")
    expect(page.locator("[data-download-reason]")).to_have_text(
        "Only 2 downloads are left today: the first 256 of 300 posts fit."
    )
    split.click()
    dialog = page.get_by_role("dialog", name="Download the first 256 of 300 artworks")
    expect(dialog.locator("[data-split-offer]")).to_have_text(
        "Only 2 downloads are left today: the first 256 of 300 posts fit. Request those?"
    )
    dialog.get_by_role("button", name="Request 2 downloads", exact=True).click()
    expect(
        page.locator(".toast").filter(has_text="Requested 2 downloads of 256 artworks.")
    ).to_contain_text("The other 44 posts are still selected.")

    # Exactly two were requested, the first 256 in table order; the rest stay selected.
    ordered = in_table_order(owner)
    assert [body["post_ids"] for body in sent] == [ordered[:128], ordered[128:256]]
    assert [(body["part"], body["parts"]) for body in sent] == [(1, 2), (2, 2)]
    assert BatchDownloadRequest.objects.filter(part_count=2).count() == 2
    assert BatchDownloadRequest.objects.count() == 8
    expect(page.locator("[data-selected-count]")).to_have_text("44")
    assert sorted(page.evaluate("window.PMD.selection.ids()")) == sorted(ordered[256:])

    # None left: the button says when the limit resets.
    expect(page.locator("[data-requests-left-text]")).to_have_text("0 of 8 requests left today")
    download = page.locator("[data-request-download]")
    expect(download).to_be_disabled()
    expect(page.locator("[data-download-reason]")).to_have_text(
        re.compile(
            r"^No download requests left today; they reset at midnight UTC, in (\d+ h )?\d+ min\.$"
        )
    )


def test_a_part_refused_midway_stops_the_split_and_keeps_the_rest_selected(open_dashboard, owner):
    posts = make_posts(owner, 300)
    page = open_dashboard(live=True, record=RECORD_STATUS)
    select_all(page, 300)
    page.get_by_role("button", name="Split into 3 downloads (uses 3 of today's 8)").click()
    # Meanwhile another tab uses 7 of today's 8 requests.
    for _ in range(7):
        make_bdr(owner, posts[:1])
    dialog = page.get_by_role("dialog", name="Download 300 artworks in 3 parts")
    dialog.get_by_role("button", name="Request 3 downloads", exact=True).click()

    # (With the module's worker running, part 1 may fail too: these posts have no files.)
    refused = page.locator("#toast-alerts .toast").filter(has_text="Requested 1 of 3")
    expect(refused).to_contain_text(
        "Requested 1 of 3 downloads (128 artworks). Download 2 was refused: You have used all "
        "8 download requests for today."
    )
    expect(refused).to_contain_text("The other 172 posts are still selected.")
    expect(page.locator("[data-selected-count]")).to_have_text("172")
    parts = list(BatchDownloadRequest.objects.filter(part_count__isnull=False))
    assert [(bdr.part_number, bdr.part_count, bdr.artwork_count) for bdr in parts] == [(1, 3, 128)]
    ordered = in_table_order(owner, "uploaded", "desc")
    assert parts[0].post_ids == ordered[:128]
    assert sorted(page.evaluate("window.PMD.selection.ids()")) == sorted(ordered[128:])


# Every toast shown from now on, as [its index among them, its text] at each change.
RECORD_TOASTS = """
window.__toasts = [];
const seen = [];
const earlier = [...document.querySelectorAll('.toast')];
new MutationObserver(() => {
  for (const toast of document.querySelectorAll('.toast')) {
    if (earlier.includes(toast)) continue;
    if (!seen.includes(toast)) seen.push(toast);
    const entry = [seen.indexOf(toast), toast.querySelector('.toast-text').textContent];
    const last = window.__toasts.findLast((item) => item[0] === entry[0]);
    if (!last || last[1] !== entry[1]) window.__toasts.push(entry);
  }
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""


def test_a_5_part_split_tells_its_news_in_one_toast_in_order(open_dashboard, owner, celery_worker):
    first = make_post(owner, title="Post 0")
    make_posts(owner, 599, art=first.art.name, file_bytes=first.file_bytes)
    page = open_dashboard(live=True, record=RECORD_STATUS)
    parts = []

    def hold_the_second_part(route):
        if route.request.method == "POST":
            parts.append(route)
        if len(parts) != 2 or parts[-1] is not route:
            route.continue_()

    page.route("**/api/pmd/bdr", hold_the_second_part)
    select_all(page, 600)
    page.evaluate(RECORD_TOASTS)
    page.get_by_role("button", name="Split into 5 downloads (uses 5 of today's 8)").click()
    page.get_by_role("dialog", name="Download 600 artworks in 5 parts").get_by_role(
        "button", name="Request 5 downloads", exact=True
    ).click()

    # Part 1 is built, and the page told, before part 2 is even requested.
    expect(page.locator("[data-download-status]")).to_have_text("Requesting download 2 of 5…")
    part_1 = BatchDownloadRequest.objects.get(part_number=1)
    expect(page.locator(f"#bdr-{part_1.pk}")).to_have_attribute(
        "data-bdr-status", "ready", timeout=30_000
    )
    parts[1].continue_()
    news = page.locator("#toasts .toast").filter(has_text="Requested 5 downloads")
    expect(news).to_contain_text("All 5 downloads are ready.", timeout=30_000)

    # One toast, first saying what was requested, then how much of it is ready.
    toasts = page.evaluate("window.__toasts")
    assert {index for index, _ in toasts} == {0}, toasts
    texts = [text for _, text in toasts]
    requested = re.match(
        r"Requested 5 downloads of 600 artworks\. .* requests left today\.", texts[0]
    )
    assert requested, texts
    told = [text[requested.end() :] for text in texts]
    assert told[-1] == " All 5 downloads are ready.", told
    ready = [int(re.fullmatch(r" (\d) of 5 ready\.", text)[1]) for text in told[:-1]]
    # Part 1 at least was ready when the toast came; more may have been by then.
    assert ready == sorted(set(ready)) and all(count >= 1 for count in ready), told
    expect(page.locator(".toast").filter(has_text="Your download of")).to_have_count(0)


def test_the_download_requests_panel_is_one_step_from_the_top_of_a_512_row_page(
    open_dashboard, owner
):
    make_posts(owner, 512)
    page = open_dashboard("?size=512", live=True, record=RECORD_STATUS)
    panel = page.get_by_role("region", name="Download requests")
    expect(panel).not_to_be_in_viewport()
    page.get_by_role("link", name="Download requests").click()
    expect(panel).to_be_in_viewport()


def test_a_single_download_request_unselects_what_it_sent_and_keeps_what_was_refused(
    open_dashboard, owner
):
    make_posts(owner, 6)
    page = open_dashboard(live=True, record=RECORD_STATUS)
    rows = page.locator("#post-table tbody tr[data-post-id]")

    def select(*indexes) -> list[int]:
        for index in indexes:
            rows.nth(index).locator("[data-select-row]").check()
        return [int(rows.nth(index).get_attribute("data-post-id")) for index in indexes]

    def request_download(count: int) -> None:
        page.get_by_role("button", name="Request download", exact=True).click()
        page.get_by_role("dialog", name=f"Download {count} artworks").get_by_role(
            "button", name="Request download"
        ).click()

    select(0, 1)
    request_download(2)
    expect(
        page.locator(".toast").filter(has_text="Download of 2 artworks requested")
    ).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("0")

    # Two others, then Delete: the dialog counts those two alone.
    chosen = select(2, 3)
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete 2 posts?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()

    # Meanwhile another tab deletes one of them: the request is refused, and
    # its posts stay selected, as the toast says.
    Post.objects.filter(pk=chosen[1]).update(
        deleted_by_user=True, deleted_by_user_date=timezone.now()
    )
    request_download(2)
    refused = page.locator("#toast-alerts .toast").filter(has_text=f"(ids {chosen[1]})")
    expect(refused).to_contain_text("Nothing was requested. The 2 posts are still selected.")
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    assert sorted(page.evaluate("window.PMD.selection.ids()")) == sorted(chosen)
    assert BatchDownloadRequest.objects.count() == 1
