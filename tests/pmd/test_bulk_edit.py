"""The bulk edit: POST /api/pmd/edit/preview writes nothing, POST /api/pmd/edit
writes exactly what the preview showed, and the undo puts back byte-identical
values (pmd.bulk_edit)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmd.bulk_edit import edit_spec, posts_edit
from pmd.models import ActivityEntry
from posts.models import Post
from testing.factories import ensure_licenses, make_posts

PREVIEW = "/api/pmd/edit/preview"
APPLY = "/api/pmd/edit"
UNDO = "/api/pmd/action/undo"
CURRENT = "/api/pmd/edit/current"


@pytest.fixture(autouse=True)
def _licenses(db):
    ensure_licenses()


def post_json(client: Client, url: str, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def state() -> tuple[list, int]:
    rows = Post.objects.order_by("id").values_list("id", "title", "description", "license")
    return list(rows), ActivityEntry.objects.count()


def values(posts) -> list[tuple]:
    by_id = {
        row[0]: row[1:]
        for row in Post.objects.filter(pk__in=[p.pk for p in posts]).values_list(
            "id", "title", "description", "license"
        )
    }
    return [by_id[p.pk] for p in posts]


def preview_then_apply(client: Client, body: dict) -> tuple[dict, dict]:
    preview = post_json(client, PREVIEW, body)
    assert preview.status_code == 200, preview.content
    applied = post_json(client, APPLY, {**body, "token": preview.json()["token"]})
    assert applied.status_code == 200, applied.content
    return preview.json(), applied.json()


class TestPreview:
    def test_it_counts_and_shows_the_change_and_writes_nothing(self, owner, owner_client):
        posts = make_posts(owner, 3, title="Knight v2")
        Post.objects.filter(pk=posts[1].pk).update(title="Castle")
        Post.objects.filter(pk=posts[2].pk).update(title="v2")
        before = state()
        body = {
            "post_ids": [p.pk for p in posts],
            "title": {"op": "regex", "find": r"^(\w*) ?v(\d+)$", "value": r"\1"},
        }
        response = post_json(owner_client, PREVIEW, body)
        assert response.status_code == 200, response.content
        preview = response.json()
        assert (preview["changed"], preview["unchanged"]) == (1, 1)
        assert preview["invalid"] == [{"id": posts[2].pk, "reason": "The title would be empty."}]
        assert preview["samples"] == [
            {"id": posts[0].pk, "field": "title", "before": "Knight v2", "after": "Knight"}
        ]
        assert preview["token"]
        assert state() == before

    def test_it_shows_at_most_50_samples(self, owner, owner_client):
        posts = make_posts(owner, 60)
        preview = post_json(
            owner_client,
            PREVIEW,
            {
                "post_ids": [p.pk for p in posts],
                "title": {"op": "suffix", "value": "!"},
                "license": "CC0-1.0",
            },
        ).json()
        assert preview["changed"] == 60
        assert len(preview["samples"]) == 50
        assert preview["samples"][0]["field"] == "title"
        assert preview["samples"][1] == {
            "id": posts[0].pk,
            "field": "license",
            "before": None,
            "after": "CC0-1.0",
        }

    def test_a_runaway_expression_is_invalid_per_post_not_a_hang(self, owner, owner_client):
        posts = make_posts(owner, 3, title="a" * 40 + "!")
        response = post_json(
            owner_client,
            PREVIEW,
            {
                "post_ids": [p.pk for p in posts],
                "title": {"op": "regex", "find": "(a|aa)+$", "value": "x"},
            },
        )
        assert response.status_code == 200
        reasons = {item["reason"] for item in response.json()["invalid"]}
        assert len(response.json()["invalid"]) == 3
        assert all("too long" in reason for reason in reasons)


class TestCurrent:
    def test_it_says_which_fields_are_mixed(self, owner, owner_client):
        posts = make_posts(owner, 2, title="Same", license_id="CC0-1.0")
        Post.objects.filter(pk=posts[1].pk).update(description="other")
        before = state()
        response = post_json(owner_client, CURRENT, {"post_ids": [p.pk for p in posts]})
        assert response.status_code == 200, response.content
        assert response.json() == {
            "title": {"value": "Same", "mixed": False},
            "description": {"value": posts[0].description, "mixed": True},
            "license": {"value": "CC0-1.0", "mixed": False},
        }
        assert state() == before

    def test_it_refuses_another_users_posts(self, owner, other, owner_client):
        theirs = make_posts(other, 1)
        response = post_json(owner_client, CURRENT, {"post_ids": [theirs[0].pk]})
        assert response.status_code == 400


class TestApply:
    def test_it_writes_what_the_preview_showed_and_logs_it(self, owner, owner_client):
        posts = make_posts(owner, 2, title="Old title", description="")
        preview, applied = preview_then_apply(
            owner_client,
            {
                "post_ids": [p.pk for p in posts],
                "title": {"op": "replace", "find": "OLD", "value": "New", "ignore_case": True},
                "description": {"op": "set", "value": "Made with 🐉"},
                "license": "CC-BY-4.0",
            },
        )
        assert preview["changed"] == 2
        assert applied["affected_count"] == 2
        assert applied["skipped"] == []
        assert applied["message"] == "2 posts edited."
        assert values(posts) == [("New title", "Made with 🐉", "CC-BY-4.0")] * 2
        entry = ActivityEntry.objects.get(pk=applied["activity_id"])
        assert (entry.action, entry.count) == ("edit", 2)
        assert entry.changes[str(posts[0].pk)]["title"] == ["Old title", "New title"]

    def test_a_post_edited_since_the_preview_is_skipped_and_counted(self, owner, owner_client):
        posts = make_posts(owner, 3, title="Draft")
        body = {"post_ids": [p.pk for p in posts], "title": {"op": "prefix", "value": "✨ "}}
        preview = post_json(owner_client, PREVIEW, body).json()
        # Someone else edits one post (the admin, another tab) in between.
        Post.objects.filter(pk=posts[1].pk).update(description="changed elsewhere")
        applied = post_json(owner_client, APPLY, {**body, "token": preview["token"]}).json()
        assert applied["affected_count"] == 2
        assert applied["skipped"] == [
            {"id": posts[1].pk, "reason": "Changed since the preview; preview again to include it."}
        ]
        assert "1 was skipped" in applied["message"]
        assert [v[0] for v in values(posts)] == ["✨ Draft", "Draft", "✨ Draft"]

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"title": {"op": "suffix", "value": "?"}}, "another edit"),
            ({"post_ids": "first"}, "other posts"),
            ({"token": "nonsense"}, "not a preview's token"),
        ],
    )
    def test_it_refuses_a_token_of_another_preview(self, owner, owner_client, change, message):
        posts = make_posts(owner, 2)
        body = {"post_ids": [p.pk for p in posts], "title": {"op": "suffix", "value": "!"}}
        token = post_json(owner_client, PREVIEW, body).json()["token"]
        sent = {**body, "token": token, **change}
        if change.get("post_ids") == "first":
            sent["post_ids"] = [posts[0].pk]
        before = state()
        response = post_json(owner_client, APPLY, sent)
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert state() == before

    def test_another_users_token_is_refused(self, owner, other, owner_client, other_client):
        posts = make_posts(owner, 1)
        body = {"post_ids": [posts[0].pk], "title": {"op": "suffix", "value": "!"}}
        token = post_json(owner_client, PREVIEW, body).json()["token"]
        response = post_json(other_client, APPLY, {**body, "token": token})
        assert response.status_code == 400
        assert values(posts)[0][0] == posts[0].title


class TestUndo:
    def test_it_puts_back_byte_identical_values(self, owner, owner_client):
        long_title = "🐉" * 150 + "é" * 149 + "\u0301"
        posts = make_posts(owner, 1, title=long_title, description="  spaced\n\ttabs  ")
        posts += make_posts(owner, 1, title="Zero\u200bwidth", license_id="CC-BY-NC-4.0")
        original = values(posts)
        _, applied = preview_then_apply(
            owner_client,
            {
                "post_ids": [p.pk for p in posts],
                "title": {"op": "set", "value": "Same"},
                "description": {"op": "set", "value": ""},
                "license": None,
            },
        )
        assert values(posts) == [("Same", "", None)] * 2
        response = post_json(owner_client, UNDO, {"activity_id": applied["activity_id"]})
        assert response.status_code == 200, response.content
        assert response.json()["action"] == "edit"
        assert response.json()["affected_count"] == 2
        assert values(posts) == original
        undo = ActivityEntry.objects.get(undo_of_id=applied["activity_id"])
        assert undo.action == "edit"

    def test_it_leaves_a_post_changed_since(self, owner, owner_client):
        posts = make_posts(owner, 2, title="A")
        _, applied = preview_then_apply(
            owner_client, {"post_ids": [p.pk for p in posts], "title": {"op": "set", "value": "B"}}
        )
        Post.objects.filter(pk=posts[0].pk).update(title="C")
        # Recent activity's Undo… says so first, writing nothing.
        preview = post_json(
            owner_client, "/api/pmd/action/undo-preview", {"activity_ids": [applied["activity_id"]]}
        )
        assert preview.status_code == 200, preview.content
        assert (preview.json()["changes"], preview.json()["leaves"]) == (1, 1)
        assert [v[0] for v in values(posts)] == ["C", "B"]
        body = post_json(owner_client, UNDO, {"activity_id": applied["activity_id"]}).json()
        assert body["affected_count"] == 1
        assert [v[0] for v in values(posts)] == ["C", "A"]

    def test_the_activity_reads_edited_and_undid(self, owner, owner_client, owner_sqid):
        posts = make_posts(owner, 2)
        _, applied = preview_then_apply(
            owner_client, {"post_ids": [p.pk for p in posts], "title": {"op": "set", "value": "B"}}
        )
        post_json(owner_client, UNDO, {"activity_id": applied["activity_id"]})
        page = owner_client.get(f"/u/{owner_sqid}/posts/activity").content.decode()
        assert "Edited 2 posts" in page and "Undid editing 2 posts" in page


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "Say what to change"),
            ({"title": None}, "Say what to change"),
            ({"title": "x"}, "title must be an object"),
            ({"title": {"op": "explode"}}, "title.op must be one of"),
            ({"title": {"op": "regex", "find": "(", "value": ""}}, "not a regular expression"),
            ({"title": {"op": "set", "value": "x", "flags": "g"}}, "unknown field 'flags'"),
            ({"license": "MIT-ish"}, "Unknown licence"),
            ({"hashtags": "x"}, "Unknown field 'hashtags'"),
            ({"owner": 1, "title": {"op": "set", "value": "x"}}, "Unknown field 'owner'"),
        ],
    )
    def test_it_refuses_and_changes_nothing(self, owner, owner_client, body, message):
        posts = make_posts(owner, 1)
        before = state()
        for url in (PREVIEW, APPLY):
            sent = {"post_ids": [posts[0].pk], **body}
            if url == APPLY:
                sent["token"] = "t"
            response = post_json(owner_client, url, sent)
            assert response.status_code == 400, (url, response.content)
            assert message in response.json()["error"], url
        assert state() == before

    def test_it_refuses_another_users_post_and_over_128(self, owner, other, owner_client):
        mine = make_posts(owner, 129)
        theirs = make_posts(other, 1)
        before = state()
        for ids, message in (
            ([mine[0].pk, theirs[0].pk], "not one of your posts"),
            ([p.pk for p in mine], "At most 128 posts per request"),
        ):
            response = post_json(
                owner_client, PREVIEW, {"post_ids": ids, "title": {"op": "set", "value": "x"}}
            )
            assert response.status_code == 400
            assert message in response.json()["error"]
        assert state() == before

    def test_anonymous_is_401(self, client):
        response = post_json(
            client, PREVIEW, {"post_ids": [1], "title": {"op": "set", "value": "x"}}
        )
        assert response.status_code == 401


class TestService:
    def test_a_job_can_run_the_edit_without_a_preview(self, owner):
        posts = make_posts(owner, 3, title="t")
        result = posts_edit(
            owner=owner,
            post_ids=[p.pk for p in posts],
            spec=edit_spec(title={"op": "suffix", "value": "!"}),
        )
        assert result.affected_count == 3
        assert [v[0] for v in values(posts)] == ["t!"] * 3

    @pytest.mark.django_db(transaction=True)
    def test_a_128_post_edit_costs_at_most_6_queries(
        self, owner, owner_client, django_assert_max_num_queries
    ):
        ensure_licenses()
        posts = make_posts(owner, 128)
        body = {
            "post_ids": [p.pk for p in posts],
            "title": {"op": "suffix", "value": " ✨"},
            "license": "CC-BY-4.0",
        }
        token = post_json(owner_client, PREVIEW, body).json()["token"]
        with django_assert_max_num_queries(8) as captured:
            response = post_json(owner_client, APPLY, {**body, "token": token})
        assert response.status_code == 200
        assert response.json()["affected_count"] == 128
        queries = [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith(("BEGIN", "COMMIT"))
        ]
        assert [sql.split()[0] for sql in queries] == [
            "SELECT",  # session
            "SELECT",  # user
            "SELECT",  # the licence exists
            "SELECT",  # the posts, locked
            "UPDATE",  # one statement for all 128
            "INSERT",  # the audit entry
        ]


OPS = st.fixed_dictionaries(
    {"op": st.sampled_from(["set", "prefix", "suffix", "replace", "regex", "x"])},
    optional={
        "value": st.one_of(st.text(max_size=20), st.integers()),
        "find": st.one_of(st.text(max_size=10), st.none()),
        "ignore_case": st.one_of(st.booleans(), st.text(max_size=2)),
    },
)


@given(
    title=st.one_of(st.none(), OPS, st.text(max_size=5), st.integers()),
    description=st.one_of(st.none(), OPS),
    license=st.one_of(st.just("<unset>"), st.none(), st.sampled_from(["CC0-1.0", "nope"])),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_edit_is_previewed_and_applied_or_refused_cleanly(
    owner, owner_client, title, description, license
):
    posts = list(Post.objects.filter(owner=owner)) or make_posts(owner, 2, title="Ab ab")
    body = {"post_ids": [p.pk for p in posts], "title": title, "description": description}
    if license != "<unset>":
        body["license"] = license
    before = state()
    preview = post_json(owner_client, PREVIEW, body)
    assert preview.status_code in (200, 400), preview.content
    assert state() == before
    if preview.status_code == 400:
        assert set(preview.json()) == {"error"}
        return
    applied = post_json(owner_client, APPLY, {**body, "token": preview.json()["token"]})
    assert applied.status_code == 200, applied.content
    result = applied.json()
    assert result["affected_count"] == preview.json()["changed"]
    assert len(result["skipped"]) == len(preview.json()["invalid"])
