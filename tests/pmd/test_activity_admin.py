"""The batch action audit trail in the admin: support reads it, nobody edits it."""

from __future__ import annotations

import pytest
from django.test import Client

from pmd.admin import entries_touching_post, entries_touching_post_by_text
from pmd.models import ActivityEntry
from posts.public_ids import post_sqid
from testing.factories import make_user

CHANGELIST = "/admin/pmd/activityentry/"


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def entries(owner, other) -> dict[str, ActivityEntry]:
    return {
        "hide": ActivityEntry.objects.create(user=owner, action="hide", post_ids=[123, 7], count=2),
        "delete": ActivityEntry.objects.create(
            user=owner, action="delete", post_ids=[1234], count=1
        ),
        "restore": ActivityEntry.objects.create(
            user=other, action="restore", post_ids=[12, 5123], count=2
        ),
        "unhide": ActivityEntry.objects.create(
            user=other, action="unhide", post_ids=[41, 123], count=0
        ),
    }


def listed(response) -> set[int]:
    return {entry.pk for entry in response.context["cl"].result_list}


class TestActivityAdminList:
    def test_it_lists_every_entry_with_user_action_and_counts(self, staff_client, entries):
        response = staff_client.get(CHANGELIST)
        assert response.status_code == 200
        assert listed(response) == {entry.pk for entry in entries.values()}
        body = response.content.decode()
        for column in ("column-user", "column-action", "column-count", "column-created"):
            assert column in body
        newest = max(entries.values(), key=lambda entry: entry.created_at)
        assert f'<time datetime="{newest.created_at.isoformat()}" title="' in body

    def test_it_filters_by_action(self, staff_client, entries):
        response = staff_client.get(CHANGELIST, {"action__exact": "delete"})
        assert listed(response) == {entries["delete"].pk}

    def test_it_filters_by_user(self, staff_client, entries, other):
        response = staff_client.get(CHANGELIST, {"user__id__exact": other.pk})
        assert listed(response) == {entries["restore"].pk, entries["unhide"].pk}
        assert f"?user__id__exact={other.pk}" in response.content.decode()

    def test_it_searches_by_username(self, staff_client, entries):
        response = staff_client.get(CHANGELIST, {"q": "bob"})
        assert listed(response) == {entries["restore"].pk, entries["unhide"].pk}

    def test_it_searches_by_post_sqid_matching_whole_ids_only(self, staff_client, entries):
        response = staff_client.get(CHANGELIST, {"q": f"  {post_sqid(123)} "})
        assert listed(response) == {entries["hide"].pk, entries["unhide"].pk}
        response = staff_client.get(CHANGELIST, {"q": post_sqid(12)})
        assert listed(response) == {entries["restore"].pk}

    def test_a_search_matching_nothing_lists_nothing(self, staff_client, entries):
        assert listed(staff_client.get(CHANGELIST, {"q": post_sqid(99)})) == set()

    def test_its_detail_page_is_read_only_and_names_the_posts(self, staff_client, entries):
        entry = entries["hide"]
        response = staff_client.get(f"{CHANGELIST}{entry.pk}/change/")
        assert response.status_code == 200
        body = response.content.decode()
        assert post_sqid(123) in body and post_sqid(7) in body
        assert 'href="/admin/posts/post/123/change/"' in body
        assert 'name="_save"' not in body


class TestActivityAdminIsReadOnly:
    def test_staff_cannot_add(self, staff_client, owner):
        assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
        response = staff_client.post(
            f"{CHANGELIST}add/",
            {"user": owner.pk, "action": "hide", "post_ids": "[1]", "count": 1},
        )
        assert response.status_code == 403
        assert not ActivityEntry.objects.exists()
        assert f'href="{CHANGELIST}add/"' not in staff_client.get(CHANGELIST).content.decode()

    def test_staff_cannot_change(self, staff_client, entries, other):
        entry = entries["hide"]
        response = staff_client.post(
            f"{CHANGELIST}{entry.pk}/change/",
            {"user": other.pk, "action": "delete", "post_ids": "[9]", "count": 9},
        )
        assert response.status_code == 403
        entry.refresh_from_db()
        assert (entry.user_id, entry.action, entry.post_ids, entry.count) == (
            entries["hide"].user_id,
            "hide",
            [123, 7],
            2,
        )

    def test_staff_cannot_delete_one_or_in_bulk(self, staff_client, entries):
        entry = entries["hide"]
        response = staff_client.post(f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        response = staff_client.post(
            CHANGELIST,
            {
                "action": "delete_selected",
                "_selected_action": [e.pk for e in entries.values()],
                "post": "yes",
            },
        )
        assert ActivityEntry.objects.count() == 4
        assert response.status_code in (200, 302)

    def test_non_staff_and_anonymous_are_sent_to_the_admin_login(self, owner_client, entries):
        for client in (owner_client, Client()):
            response = client.get(CHANGELIST)
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")

    def test_staff_without_the_view_permission_cannot_read_it(self, entries):
        helper = make_user("dave", is_staff=True)
        client = Client()
        client.force_login(helper)
        assert client.get(CHANGELIST).status_code == 403


class TestSearchByPost:
    """Both ways of finding entries by post id, on whichever database runs."""

    def test_the_text_match_finds_whole_ids_only(self, entries):
        found = entries_touching_post_by_text(ActivityEntry.objects.all(), 123)
        assert set(found) == {entries["hide"], entries["unhide"]}
        assert set(entries_touching_post_by_text(ActivityEntry.objects.all(), 12)) == {
            entries["restore"]
        }
        assert set(entries_touching_post_by_text(ActivityEntry.objects.all(), 23)) == set()

    def test_the_database_path_agrees_with_the_text_match(self, entries):
        for post_id in (7, 12, 123, 1234, 5123, 41, 23, 1):
            assert set(entries_touching_post(ActivityEntry.objects.all(), post_id)) == set(
                entries_touching_post_by_text(ActivityEntry.objects.all(), post_id)
            ), post_id

    @pytest.mark.postgresql_only
    def test_postgresql_uses_jsonb_containment(self, entries):
        query = str(entries_touching_post(ActivityEntry.objects.all(), 123).query)
        assert "@>" in query
