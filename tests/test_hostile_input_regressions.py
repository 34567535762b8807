"""Issue 11's examples, each answered 500 by main at 6ef1001: now a clear 4xx
(or the page itself), on PostgreSQL and SQLite alike."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from pmd.models import ActivityEntry, BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post, make_posts

# Decodes, with the user and with the post alphabet, to a number above 2**63.
HUGE_SQID = "Zz9Qx7Wv3Ku5Ty1"
FIVE_THOUSAND_DIGITS = "9" * 5000


class TestPublicIdsBeyondAnyId:
    def test_profile_dashboard_and_art_are_404(self, client, owner_client):
        assert client.get(f"/u/{HUGE_SQID}/").status_code == 404
        assert client.get(f"/u/{HUGE_SQID}/posts").status_code == 404
        assert owner_client.get(f"/u/{HUGE_SQID}/posts").status_code == 404
        assert owner_client.get(f"/u/{HUGE_SQID}/posts/activity").status_code == 404
        assert client.get(f"/art/{HUGE_SQID}").status_code == 404

    def test_admin_search_finds_nothing(self, staff_client, owner):
        make_post(owner, write_file=False)
        ActivityEntry.objects.create(user=owner, action="hide", post_ids=[1], count=1)
        for path in ("/admin/posts/post/", "/admin/pmd/activityentry/"):
            response = staff_client.get(path, {"q": HUGE_SQID})
            assert response.status_code == 200
            assert response.context["cl"].result_count == 0


class TestNumbersFromClients:
    @pytest.mark.parametrize("limit", ["²", "١٢", FIVE_THOUSAND_DIGITS, "１"])
    def test_a_limit_that_is_not_ascii_digits_or_too_long_is_400(self, owner_client, limit):
        for path in ("/api/pmd/posts", "/api/pmd/posts/ids"):
            response = owner_client.get(path, {"limit": limit})
            assert response.status_code == 400
            assert response.json() == {"error": "limit must be a whole number from 1 to 512."}

    @pytest.mark.parametrize(
        "query", [{"page": "²"}, {"size": "²"}, {"page": FIVE_THOUSAND_DIGITS}]
    )
    def test_the_table_falls_back_with_a_note(self, owner, owner_client, query):
        make_posts(owner, 3)
        response = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", query)
        assert response.status_code == 200
        assert 'class="table-note"' in response.content.decode()

    @pytest.mark.parametrize("header", [f"bytes={FIVE_THOUSAND_DIGITS}-", "bytes=١-", "bytes=1-١٢"])
    def test_a_range_with_a_number_too_long_to_read_never_fails(self, client, owner, header):
        post = make_post(owner)
        response = client.get(f"/art/{post.public_sqid}", headers={"Range": header})
        assert response.status_code in (200, 416)

    def test_a_range_past_any_file_is_416_on_the_download(self, owner, owner_client):
        name = f"bdr/{user_sqid(owner.pk)}/range.zip"
        storages["vault"].save(name, ContentFile(b"PK\x05\x06" + b"\0" * 18))
        now = timezone.now()
        bdr = BatchDownloadRequest.objects.create(
            user=owner, post_ids=[1], artwork_count=1, status="ready", file_path=name,
            file_size_bytes=22, completed_at=now, expires_at=now + timedelta(days=7),
        )  # fmt: skip
        response = owner_client.get(
            f"/api/pmd/bdr/{bdr.pk}/download", headers={"Range": f"bytes={FIVE_THOUSAND_DIGITS}-"}
        )
        assert response.status_code == 416
        assert response["Content-Range"] == "bytes */22"
        response = owner_client.get(
            f"/api/pmd/bdr/{bdr.pk}/download", headers={"Range": f"bytes=-{FIVE_THOUSAND_DIGITS}"}
        )
        assert response.status_code == 206
        assert b"".join(response.streaming_content).startswith(b"PK")


@pytest.mark.parametrize("path", ["/api/pmd/action", "/api/pmd/bdr"])
def test_a_json_body_nested_too_deeply_is_400(owner_client, path):
    body = "[" * 40_000
    response = owner_client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is nested too deeply."}


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_cursor_whose_date_overflows_in_utc_is_400(owner, owner_client, moment):
    make_posts(owner, 3)
    cursor = base64.urlsafe_b64encode(json.dumps([moment, 5]).encode()).decode()
    for path in ("/api/pmd/posts", "/api/pmd/posts/ids"):
        response = owner_client.get(path, {"cursor": cursor})
        assert response.status_code == 400
        assert response.json() == {"error": "The cursor is not valid; start again without one."}


@pytest.mark.parametrize("search", ["\x00", "frog\x00", "\x00\x01\x1f"])
def test_a_nul_in_the_search_is_named_as_any_control_character(owner, owner_client, search):
    make_posts(owner, 2, title="frog")
    page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": search})
    assert page.status_code == 200
    at = search.index("\x00") + 1
    assert page.context["search_note"].message == (
        f"The search holds an invisible control character (U+0000) at character {at}; remove it."
    )
    assert page.context["rows"] == []
    for path in ("/api/pmd/posts", "/api/pmd/posts/ids"):
        response = owner_client.get(path, {"q": search})
        assert response.status_code == 400
        assert "control character (U+0000)" in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/pmd/posts", {"cursor": "a\x00"}),
        ("/api/pmd/posts", {"q\x00": "frog"}),
        ("/api/pmd/bdr", {"q": "\x00"}),
        ("/admin/posts/post/", {"q": "\x00"}),
        ("/admin/posts/post/", {"kind__exact": "\x00"}),
    ],
)
def test_a_nul_anywhere_else_in_a_query_is_a_clear_400(owner, staff_client, path, query):
    response = staff_client.get(path, query)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {
            "error": "The address holds a NUL character; remove it and try again."
        }
    else:
        assert b"NUL character" in response.content


def test_other_control_characters_in_a_search_are_named(owner, owner_client):
    make_posts(owner, 2, title="frog")
    page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": "fr\x01og"})
    assert page.status_code == 200
    assert "(U+0001) at character 3" in page.context["search_note"].message
    ids = owner_client.get("/api/pmd/posts/ids", {"q": "\x1ffrog\x7f"})
    assert ids.status_code == 400
    assert "(U+007F) at character 6" in ids.json()["error"]


class TestTheAdminFoundByFuzzing:
    """Two more the URL fuzzing (tests/test_url_fuzz.py) found on main."""

    def test_the_add_post_page_opens(self, staff_client):
        assert staff_client.get("/admin/posts/post/add/").status_code == 200

    @pytest.mark.parametrize("year", ["9999", "99999999999", "9" * 30])
    @pytest.mark.parametrize(
        "path",
        ["/admin/posts/post/", "/admin/pmd/activityentry/", "/admin/pmd/batchdownloadrequest/"],
    )
    def test_a_date_hierarchy_year_out_of_range_is_a_wrong_filter(self, staff_client, path, year):
        response = staff_client.get(path, {"created_at__year": year})
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")
