"""Jobs (pmd.jobs) without a worker: the API's create, list, get, cancel and
undo, and the chunks a run works through, called in this process."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd.jobs import work
from pmd.jobs.recover import jobs_recover
from pmd.jobs.serialize import job_message
from pmd.jobs.service import job_create
from pmd.jobs.work import job_claim, job_run
from pmd.models import ActivityEntry, Job
from posts.models import Post
from testing.factories import make_posts
from tests.pmd.action_state import database_state, flags
from tests.pmd.test_actions import run

URL = "/api/pmd/jobs"


def post(client, body, url: str = URL):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, raw, content_type="application/json")


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.PMD_JOB_CHUNK = 2


def ids_of(posts) -> list[int]:
    return [p.pk for p in posts]


def refused(client, body, message: str, status: int = 400, url: str = URL) -> None:
    before = (database_state(), Job.objects.count())
    response = post(client, body, url)
    assert response.status_code == status, response.content
    assert set(response.json()) == {"error"}
    assert message in response.json()["error"], response.json()
    assert (database_state(), Job.objects.count()) == before


class TestCreate:
    def test_it_fixes_the_posts_queues_and_answers_202(
        self, owner, owner_client, django_capture_on_commit_callbacks
    ):
        posts = make_posts(owner, 5)
        with django_capture_on_commit_callbacks() as callbacks:
            response = post(owner_client, {"action": "hide", "post_ids": ids_of(posts)})
        assert response.status_code == 202, response.content
        body = response.json()
        assert body == {"id": body["id"], "status": "queued", "total": 5}
        job = Job.objects.get(pk=body["id"])
        assert (job.user, job.action, job.post_ids) == (owner, "hide", ids_of(posts))
        # Enqueued and announced only once committed.
        assert len(callbacks) == 2
        assert not any(flags(p)[0] for p in posts)

    def test_filters_take_what_the_table_matches_now(self, owner, owner_client):
        hidden = make_posts(owner, 3, hidden_by_user=True)
        make_posts(owner, 2)
        response = post(owner_client, {"action": "unhide", "filters": {"visibility": "hidden"}})
        assert response.json()["total"] == 3
        job = Job.objects.get()
        assert sorted(job.post_ids) == ids_of(hidden)
        # Posts hidden after the job was asked for are not its.
        late = make_posts(owner, 1, hidden_by_user=True)
        job_run(job.pk)
        assert flags(late[0])[0] is True
        assert not any(flags(p)[0] for p in hidden)

    def test_a_second_job_while_one_is_unfinished_is_a_409(self, owner, owner_client, other):
        make_posts(owner, 3)
        first = post(owner_client, {"action": "hide", "filters": {}})
        assert first.status_code == 202
        refused(owner_client, {"action": "unhide", "filters": {}}, "still running", 409)
        # Another user's jobs are theirs.
        theirs = job_create(user=other, action_name="hide", post_ids=ids_of(make_posts(other, 1)))
        assert theirs.total == 1
        job_run(first.json()["id"])
        assert post(owner_client, {"action": "unhide", "filters": {}}).status_code == 202

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"action": "hide"}, "Send post_ids (the posts) or filters"),
            ({"action": "hide", "post_ids": [1], "filters": {}}, "Send post_ids (the posts)"),
            ({"action": "explode", "post_ids": [1]}, "Unknown action 'explode'"),
            ({"action": "hide", "post_ids": []}, "Select at least one post."),
            ({"action": "hide", "post_ids": ["1"]}, "post_ids must hold post ids"),
            ({"action": "add_hashtag", "post_ids": [1]}, "add_hashtag needs a hashtag"),
            ({"action": "hide", "post_ids": [1], "hashtag": "x"}, "take a hashtag"),
            ({"action": "hide", "filters": {"q": 3}}, "filters.q"),
            ({"action": "hide", "post_ids": [1], "extra": 1}, "Unknown field 'extra'"),
            ({"action": "set_license", "post_ids": [1]}, "set_license needs a licence"),
            ({"action": "hide", "post_ids": [1], "license": None}, "Only set_license takes"),
            ({"action": "set_license", "post_ids": [1], "license": "cc0-1.0"}, "Unknown licence"),
            ({"action": "set_license", "post_ids": [1], "license": ["CC0-1.0"]}, "license"),
        ],
    )
    def test_bad_input_is_a_400_and_creates_nothing(self, owner, owner_client, body, message):
        make_posts(owner, 1)
        refused(owner_client, body, message)

    def test_an_empty_match_and_too_many_posts_are_refused(self, owner, owner_client, settings):
        refused(owner_client, {"action": "hide", "filters": {}}, "Select at least one post.")
        settings.PMD_JOB_LIMIT = 3
        make_posts(owner, 4)
        refused(owner_client, {"action": "hide", "filters": {}}, "At most 3 posts per job")
        refused(owner_client, {"action": "hide", "post_ids": [1, 2, 3, 4]}, "At most 3 posts")

    def test_a_body_of_100000_ids_is_read_and_each_must_be_the_callers(
        self, owner, owner_client, other
    ):
        ids = list(range(10**12, 10**12 + 100_000))
        # Read whole (no 413): then refused for naming posts that are not the caller's.
        refused(
            owner_client,
            {"action": "hide", "post_ids": ids},
            f"Posts {ids[0]}, {ids[1]}, {ids[2]}, {ids[3]}, {ids[4]} and 99995 more are not "
            "your posts. Nothing was changed.",
        )
        (mine,) = make_posts(owner, 1)
        (theirs,) = make_posts(other, 1)
        refused(
            owner_client,
            {"action": "hide", "post_ids": [mine.pk, theirs.pk]},
            f"Post {theirs.pk} is not one of your posts.",
        )
        refused(
            owner_client,
            {"action": "hide", "post_ids": [*ids, 10**13]},
            "At most 100000 posts per request",
        )

    def test_anonymous_gets_401_and_csrf_is_checked(self, owner):
        from django.test import Client

        assert post(Client(), {"action": "hide", "filters": {}}).status_code == 401
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(owner)
        assert post(strict, {"action": "hide", "filters": {}}).status_code == 403
        assert Job.objects.count() == 0


class TestRun:
    def test_it_works_in_chunks_each_recorded_and_counts_skips_by_reason(self, owner):
        posts = make_posts(owner, 5)
        gone = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        erased = make_posts(owner, 1)
        already = make_posts(owner, 1, hidden_by_user=True)
        ids = ids_of(posts + gone + erased + already)
        job = job_create(user=owner, action_name="hide", post_ids=ids)
        erased[0].delete()  # gone for good between the ask and its chunk
        assert job_run(job.pk) == "done"
        job.refresh_from_db()
        assert (job.status, job.total, job.done, job.changed, job.skipped, job.failed) == (
            "done", 8, 6, 5, 2, 0,
        )  # fmt: skip
        assert job.skip_reasons == {"deleted": 1, "not_yours": 1}
        assert job_message(job) == "Hid 5 of 8 posts; 2 skipped (1 deleted, 1 not yours or gone)."
        entries = list(ActivityEntry.objects.filter(job=job).order_by("chunk"))
        assert [e.chunk for e in entries] == [0, 1, 2, 3]
        assert sum(e.count for e in entries) == 5
        assert job.activity_id == entries[0].pk
        assert all(flags(p)[0] for p in posts)
        assert job.finished_at and job.started_at
        # One line of recent activity for the whole job.
        from pmd.activity import activity_recent

        assert [line.text for line in activity_recent(user=owner)] == ["Hid 5 of 8 posts"]

    def test_each_chunk_costs_the_same_queries_whatever_its_size(self, owner, settings):
        counts = []
        for size in (2, 8):
            settings.PMD_JOB_CHUNK = size
            posts = make_posts(owner, size)
            job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
            token = job_claim(job.pk)
            with CaptureQueriesContext(connection) as queries:
                work._next_chunk(job.pk, token, ids_of(posts))
            counts.append(len(queries))
            Job.objects.filter(pk=job.pk).update(status="cancelled")
        assert counts[0] == counts[1] <= 12

    def test_the_hashtag_actions_run_as_jobs(self, owner):
        posts = make_posts(owner, 3, hashtags="")
        job = job_create(
            user=owner, action_name="add_hashtag", post_ids=ids_of(posts), hashtag="#Pixel"
        )
        job_run(job.pk)
        assert set(Post.objects.values_list("hashtags", flat=True)) == {"pixel"}
        job.refresh_from_db()
        assert (job.hashtag, job.changed) == ("pixel", 3)

    def test_set_license_runs_as_a_job_with_the_licence_it_was_asked_for(self, owner, owner_client):
        posts = make_posts(owner, 3, license_id="CC0-1.0") + make_posts(owner, 2)
        body = {"action": "set_license", "post_ids": ids_of(posts), "license": "CC-BY-4.0"}
        response = post(owner_client, body)
        assert response.status_code == 202, response.content
        assert job_run(response.json()["id"]) == "done"
        assert set(Post.objects.values_list("license_id", flat=True)) == {"CC-BY-4.0"}
        item = owner_client.get(f"{URL}/{response.json()['id']}").json()
        assert (item["license"], item["changed"]) == ("CC-BY-4.0", 5)
        assert item["message"].startswith("Set the licence of 5 posts to CC-BY-4.0")
        # null is a licence of its own: all rights reserved.
        cleared = post(owner_client, {**body, "license": None})
        assert job_run(cleared.json()["id"]) == "done"
        assert set(Post.objects.values_list("license_id", flat=True)) == {None}

    def test_cancel_stops_after_the_current_chunk(self, owner, owner_client):
        posts = make_posts(owner, 6)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
        token = job_claim(job.pk)
        assert work._next_chunk(job.pk, token, job.post_ids) is None
        response = post(owner_client, {}, f"{URL}/{job.pk}/cancel")
        assert response.status_code == 200, response.content
        assert response.json()["cancel_requested"] is True
        assert work._next_chunk(job.pk, token, job.post_ids) == "cancelled"
        job.refresh_from_db()
        assert (job.status, job.done, job.changed) == ("cancelled", 2, 2)
        assert sum(flags(p)[0] for p in posts) == 2
        # Finished: a second cancel is a 409.
        refused(owner_client, {}, "already finished", 409, f"{URL}/{job.pk}/cancel")

    def test_a_queued_job_is_cancelled_at_once(self, owner, owner_client):
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(make_posts(owner, 2)))
        assert post(owner_client, {}, f"{URL}/{job.pk}/cancel").json()["status"] == "cancelled"
        assert job_run(job.pk) == "skipped"
        assert not any(flags(p)[0] for p in Post.objects.all())

    def test_a_live_lease_is_not_taken_and_a_stale_one_is_taken_once(self, owner, settings):
        posts = make_posts(owner, 6)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
        first = job_claim(job.pk)
        assert first and job_claim(job.pk) is None
        assert work._next_chunk(job.pk, first, job.post_ids) is None
        stale = timezone.now() - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS + 1)
        Job.objects.filter(pk=job.pk).update(heartbeat_at=stale)
        assert jobs_recover().taken_back == 1
        second = job_claim(job.pk)
        assert second and second != first and job_claim(job.pk) is None
        # The first run, back from the dead, writes nothing and stops.
        with pytest.raises(work.LeaseLost):
            work._next_chunk(job.pk, first, job.post_ids)
        assert work._next_chunk(job.pk, second, job.post_ids) is None
        job.refresh_from_db()
        assert (job.position, job.done) == (2, 4)
        assert ActivityEntry.objects.filter(job=job).count() == 2


class TestReading:
    def test_get_and_list_are_the_owners_only(self, owner, owner_client, other_client):
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(make_posts(owner, 3)))
        job_run(job.pk)
        item = owner_client.get(f"{URL}/{job.pk}").json()
        assert {k: item[k] for k in ("status", "total", "done", "skipped", "failed")} == {
            "status": "done", "total": 3, "done": 3, "skipped": 0, "failed": 0,
        }  # fmt: skip
        assert item["activity_id"] == ActivityEntry.objects.filter(job=job, chunk=0).get().pk
        assert item["message"] == "Hid 3 posts."
        assert item["undoable"] is True
        assert [i["id"] for i in owner_client.get(URL).json()["items"]] == [str(job.pk)]
        assert other_client.get(URL).json() == {"items": []}
        assert other_client.get(f"{URL}/{job.pk}").status_code == 404
        assert post(other_client, {}, f"{URL}/{job.pk}/cancel").status_code == 404
        assert owner_client.get(f"{URL}/{uuid.uuid4()}").status_code == 404

    def test_the_openapi_description_has_them(self, client):
        paths = client.get("/api/pmd/openapi.json").json()["paths"]
        assert {"/api/pmd/jobs", "/api/pmd/jobs/{pk}", "/api/pmd/jobs/{pk}/cancel"} <= set(paths)
        assert "202" in paths["/api/pmd/jobs"]["post"]["responses"]
        assert "409" in paths["/api/pmd/jobs"]["post"]["responses"]


class TestUndo:
    def test_one_undo_reverts_the_whole_job_except_what_changed_since(self, owner, owner_client):
        posts = make_posts(owner, 7)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
        job_run(job.pk)
        job.refresh_from_db()
        run(owner, "unhide", [posts[0].pk])  # a change in between wins
        response = post(owner_client, {"activity_id": job.activity_id}, "/api/pmd/action/undo")
        assert response.status_code == 202, response.content
        undo = Job.objects.get(pk=response.json()["id"])
        assert (undo.action, undo.undo_of_id, undo.total) == ("unhide", job.pk, 7)
        assert job_run(undo.pk) == "done"
        undo.refresh_from_db()
        assert (undo.changed, undo.skipped, undo.skip_reasons) == (6, 1, {"changed_since": 1})
        assert not any(flags(p)[0] for p in posts)
        assert job_message(undo) == "Undid hiding 6 of 7 posts; 1 skipped (1 changed since)."
        # Once: the job, its entries, and the undo itself say no.
        refused(owner_client, {}, "already been undone", 400, f"{URL}/{job.pk}/undo")
        refused(owner_client, {}, "An undo cannot be undone", 400, f"{URL}/{undo.pk}/undo")

    def test_a_licence_job_is_undone_to_each_posts_own_licence(self, owner, owner_client):
        posts = [
            *make_posts(owner, 2, license_id="CC0-1.0"),
            *make_posts(owner, 2, license_id="CC-BY-SA-4.0"),
            *make_posts(owner, 1),
        ]
        before = {p.pk: p.license_id for p in posts}
        job = job_create(
            user=owner, action_name="set_license", post_ids=ids_of(posts), license="CC-BY-4.0"
        )
        job_run(job.pk)
        undo = Job.objects.get(pk=post(owner_client, {}, f"{URL}/{job.pk}/undo").json()["id"])
        assert job_run(undo.pk) == "done"
        assert dict(Post.objects.values_list("id", "license_id")) == before

    def test_a_chunk_that_changed_nothing_is_passed_over_by_the_undo(self, owner, owner_client):
        already = make_posts(owner, 2, hidden_by_user=True)  # the first chunk changes nothing
        fresh = make_posts(owner, 2)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(already + fresh))
        job_run(job.pk)
        undo = Job.objects.get(pk=post(owner_client, {}, f"{URL}/{job.pk}/undo").json()["id"])
        assert job_run(undo.pk) == "done"
        item = owner_client.get(f"{URL}/{undo.pk}").json()
        assert (item["changed"], item["skipped"], item["skip_reasons"]) == (2, 0, [])
        assert [flags(p)[0] for p in already + fresh] == [True, True, False, False]

    def test_a_job_run_keeps_the_chunk_size_it_was_asked_with(self, owner, settings):
        posts = make_posts(owner, 6)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
        token = job_claim(job.pk)
        work._next_chunk(job.pk, token, job.post_ids)
        settings.PMD_JOB_CHUNK = 4  # a takeover by a worker configured otherwise
        while work._next_chunk(job.pk, token, job.post_ids) is None:
            pass
        job.refresh_from_db()
        assert (job.status, job.done, job.position) == ("done", 6, 3)
        assert sorted(ActivityEntry.objects.filter(job=job).values_list("chunk", flat=True)) == [
            0, 1, 2,
        ]  # fmt: skip

    def test_an_unfinished_or_old_job_cannot_be_undone(self, owner, owner_client):
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(make_posts(owner, 2)))
        refused(owner_client, {}, "still running", 409, f"{URL}/{job.pk}/undo")
        job_run(job.pk)
        Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=30))
        refused(owner_client, {}, "more than 7 days old", 400, f"{URL}/{job.pk}/undo")


class TestRecovery:
    def test_a_job_whose_enqueue_was_lost_is_queued_again(self, owner, settings, empty_test_queue):
        from testing.worker import queued_messages

        job = job_create(user=owner, action_name="hide", post_ids=ids_of(make_posts(owner, 2)))
        assert jobs_recover().requeued == 0  # not yet past the threshold
        Job.objects.filter(pk=job.pk).update(
            created_at=timezone.now()
            - timedelta(seconds=settings.PMD_BDR_PENDING_RECOVERY_SECONDS + 1)
        )
        assert jobs_recover().requeued == 1
        assert queued_messages(empty_test_queue) == 1
        # Its run finds it queued and works it; a second message then finds it done.
        assert job_run(job.pk) == "done"
        assert job_run(job.pk) == "skipped"
