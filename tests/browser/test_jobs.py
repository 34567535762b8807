"""A large selection's action as one server job, in Chromium with a real
worker: the dialog names the count, progress shows in every open tab from
the job_update events, Cancel stops it, Undo reverts it; at 1280 and 375 px,
axe clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pmd.models import Job
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import ensure_licenses, make_posts
from tests.browser.axe import assert_accessible
from tests.pmd.test_jobs_worker import post_trigger  # noqa: F401 - a fixture

POSTS = 600  # more than the page sends itself (4 requests of 128)


def _open(page, owner):
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    expect(page.locator("[data-live-text]")).to_have_text("Live")


def _select_all(page):
    page.get_by_role("button", name="Select all", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text(f"{POSTS:,}")


@pytest.mark.parametrize("width", [1280, 375])
def test_hide_all_matching_as_a_job_seen_in_every_tab_then_undone(
    page, context, owner, log_in, celery_worker, width
):
    make_posts(owner, POSTS)
    log_in(page, owner)
    page.set_viewport_size({"width": width, "height": 800})
    other_tab = context.new_page()
    other_tab.set_viewport_size({"width": width, "height": 800})
    _open(other_tab, owner)
    _open(page, owner)
    _select_all(page)
    page.get_by_role("button", name="Hide", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Hide {POSTS} posts?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("you can leave this page")
    assert_accessible(page)
    dialog.get_by_role("button", name=f"Hide {POSTS} posts").click()
    expect(dialog).to_be_hidden()

    done = f"Hid {POSTS} posts."
    for tab in (page, other_tab):
        expect(tab.locator("[data-job-text]")).to_have_text(done, timeout=30_000)
    expect(page.locator(".toast").filter(has_text=done)).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("0")
    expect(page.locator("#post-table tbody tr.is-hidden").first).to_be_visible()
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == POSTS
    job = Job.objects.get(user=owner, undo_of=None)
    assert (job.total, job.changed) == (POSTS, POSTS)
    # The same query as the table's: "all 600 matching" went as its filters.
    assert job.post_ids == sorted(job.post_ids)
    assert_accessible(page)

    page.locator("[data-job-status]").get_by_role("button", name="Undo").click()
    undone = f"Undid hiding {POSTS} posts."
    for tab in (page, other_tab):
        expect(tab.locator("[data-job-text]")).to_have_text(undone, timeout=30_000)
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == 0
    page.locator("[data-job-status]").get_by_role("button", name="Close").click()
    expect(page.locator("[data-job-status]")).to_be_hidden()


@pytest.mark.postgresql_only
def test_cancel_stops_the_job_after_its_chunk(page, owner, log_in, celery_worker, post_trigger):  # noqa: F811
    make_posts(owner, POSTS)
    # Slow chunks (over a second each), so there is time to press Cancel.
    post_trigger("PERFORM pg_sleep(0.01);")
    log_in(page, owner)
    _open(page, owner)
    _select_all(page)
    page.get_by_role("button", name="Hide", exact=True).click()
    page.get_by_role("dialog", name=f"Hide {POSTS} posts?").get_by_role(
        "button", name=f"Hide {POSTS} posts"
    ).click()
    status = page.locator("[data-job-status]")
    # Once a chunk is done, so the job is past its start (a queued job is
    # cancelled at once, with nothing done).
    expect(status.locator("[data-job-text]")).to_contain_text(
        "Hiding 600 posts… 128/600", timeout=30_000
    )
    status.get_by_role("button", name="Cancel").click()
    # A deadline for a loaded machine, not a speed check.
    expect(status.locator("[data-job-text]")).to_contain_text("cancelled after", timeout=90_000)
    job = Job.objects.get(user=owner)
    assert job.status == "cancelled" and 0 < job.done < POSTS and job.done % 128 == 0
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == job.changed
    # The selection stays: the rest were not done.
    expect(page.locator("[data-selected-count]")).to_have_text(f"{POSTS:,}")


def test_a_large_licence_change_is_a_job_undone_to_each_posts_own_licence(
    page, owner, log_in, celery_worker
):
    ensure_licenses()  # a transactional test's flush took the migration's rows
    make_posts(owner, POSTS - 100)
    make_posts(owner, 100, license_id="CC-BY-SA-4.0")
    log_in(page, owner)
    _open(page, owner)
    _select_all(page)
    page.get_by_role("button", name="Set licence…").click()
    dialog = page.get_by_role("dialog", name=f"Set the licence of {POSTS} posts")
    dialog.get_by_label("Licence").select_option("CC0-1.0")
    dialog.get_by_role("button", name="Set licence").click()
    status = page.locator("[data-job-status]")
    done = f"Set the licence of {POSTS} posts to CC0-1.0."
    expect(status.locator("[data-job-text]")).to_have_text(done, timeout=30_000)
    assert set(Post.objects.filter(owner=owner).values_list("license_id", flat=True)) == {"CC0-1.0"}
    assert Job.objects.get(user=owner).params["license"] == "CC0-1.0"
    status.get_by_role("button", name="Undo").click()
    expect(status.locator("[data-job-text]")).to_have_text(
        f"Undid setting the licence of {POSTS} posts.", timeout=30_000
    )
    licences = Post.objects.filter(owner=owner).values_list("license_id", flat=True)
    assert sorted(licences, key=str) == ["CC-BY-SA-4.0"] * 100 + [None] * (POSTS - 100)


def test_a_large_delete_says_how_long_the_bin_keeps_posts(page, owner, log_in):
    make_posts(owner, POSTS)
    log_in(page, owner)
    _open(page, owner)
    _select_all(page)
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Delete {POSTS} posts?")
    expect(dialog).to_contain_text("restored from “Recently deleted” for 30 days")
    dialog.get_by_role("button", name="Cancel").click()
    assert Job.objects.count() == 0


def test_a_second_job_is_refused_in_the_dialog(page, owner, log_in):
    make_posts(owner, POSTS)
    Job.objects.create(user=owner, action="hide", post_ids=[1], total=1)  # queued, never run
    log_in(page, owner)
    _open(page, owner)
    expect(page.locator("[data-job-text]")).to_have_text("Hiding 1 post: waiting for the server…")
    _select_all(page)
    page.get_by_role("button", name="Unhide", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Unhide {POSTS} posts?")
    dialog.get_by_role("button", name=f"Unhide {POSTS} posts").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Another of your jobs is still running")
    assert Job.objects.filter(user=owner).count() == 1
