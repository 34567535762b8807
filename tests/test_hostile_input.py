"""Hostile input, case by case: every answer is a clear 4xx with
a JSON error, nothing changes, and user text never runs as markup."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client

from pmd.downloads import build, emails, storage
from pmd.models import ActivityEntry, BatchDownloadRequest
from posts.models import Post
from posts.public_ids import post_sqid, user_sqid
from testing.factories import make_comment, make_post, make_posts
from tests.pmd.bdr_helpers import make_bdr, open_zip, read_json

SCRIPT = "<script>alert('pwned')</script>"


def _post(client: Client, path: str, body) -> object:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data, content_type="application/json")


def _state():
    return (
        list(Post.objects.order_by("pk").values_list("pk", "hidden_by_user", "deleted_by_user")),
        ActivityEntry.objects.count(),
        BatchDownloadRequest.objects.count(),
    )


BAD_IDS = [
    ["1"],
    [1.5],
    [1.0],
    [-1],
    [0],
    [2**64],
    [-(2**63)],
    [True],
    [None],
    [[1]],
    [{"id": 1}],
    "1,2,3",
    {"0": 1},
    None,
]


@pytest.mark.parametrize("path", ["/api/pmd/action", "/api/pmd/bdr", "/api/pmd/bdr/table-order"])
@pytest.mark.parametrize("post_ids", BAD_IDS, ids=repr)
def test_ids_that_are_not_post_ids_are_refused_and_change_nothing(
    owner, owner_client, path, post_ids
):
    make_posts(owner, 3)
    before = _state()
    response = _post(owner_client, path, {"action": "hide", "post_ids": post_ids})
    assert response.status_code == 400
    assert response.json()["error"]
    assert _state() == before


@pytest.mark.parametrize("path", ["/api/pmd/action", "/api/pmd/bdr", "/api/pmd/bdr/table-order"])
def test_ten_thousand_ids_are_refused(owner, owner_client, path):
    ids = [post.pk for post in make_posts(owner, 200)] + list(range(10**9, 10**9 + 9800))
    before = _state()
    response = _post(owner_client, path, {"action": "hide", "post_ids": ids})
    assert response.status_code in (400, 413)
    assert "error" in response.json()
    assert _state() == before


@pytest.mark.parametrize("path", ["/api/pmd/action", "/api/pmd/bdr", "/api/pmd/bdr/table-order"])
def test_a_one_megabyte_body_is_refused(owner_client, owner, path):
    make_posts(owner, 2)
    before = _state()
    response = _post(
        owner_client, path, '{"action": "hide", "post_ids": [' + "1," * 500_000 + "1]}"
    )
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large."}
    assert _state() == before


@pytest.mark.parametrize("body", ["", "not json", "[]", '"hide"', "{", b"\xff\xfe"])
@pytest.mark.parametrize("path", ["/api/pmd/action", "/api/pmd/bdr", "/api/pmd/bdr/table-order"])
def test_a_body_that_is_not_a_json_object_is_refused(owner_client, path, body):
    response = _post(owner_client, path, body)
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize(
    "bdr_id", ["not-a-uuid", "00000000-0000-0000-0000-00000000000g", "1", "%00", "..%2F..%2Fetc"]
)
@pytest.mark.parametrize("suffix", ["", "/download"])
def test_malformed_download_request_ids_are_404(owner_client, bdr_id, suffix):
    response = owner_client.get(f"/api/pmd/bdr/{bdr_id}{suffix}")
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_malformed_id_to_retry_is_404(owner_client):
    response = owner_client.post("/api/pmd/bdr/zzz/retry")
    assert response.status_code == 404


@pytest.mark.parametrize("sqid", ["", "!!!", "a" * 200, "kkG", "../../etc/passwd", "%F0%9F%92%A3"])
def test_tampered_sqids_are_404(client, owner_client, owner, sqid):
    post = make_post(owner, write_file=False)
    tampered = post_sqid(post.pk) + sqid if sqid else post_sqid(post.pk)[:-1]
    assert client.get(f"/art/{tampered}").status_code == 404
    assert client.get(f"/u/{sqid or user_sqid(owner.pk)[:-1]}/").status_code == 404
    assert owner_client.get(f"/u/{sqid or 'x'}/posts").status_code == 404


@pytest.mark.parametrize("path", ["/api/pmd/action", "/api/pmd/bdr", "/api/pmd/bdr/table-order"])
def test_a_missing_csrf_token_is_403_and_changes_nothing(owner, path):
    post = make_post(owner, write_file=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    before = _state()
    response = _post(client, path, {"action": "hide", "post_ids": [post.pk]})
    assert response.status_code == 403
    assert "error" in response.json()
    assert _state() == before


class TestScriptTagsStayText:
    @pytest.fixture
    def hostile_post(self, owner, other):
        post = make_post(owner, title=SCRIPT, description=f"desc {SCRIPT}", hashtags="<img src=x>")
        make_comment(post, author=other, body=f"comment {SCRIPT}")
        return post

    def test_in_the_table_and_the_profile(self, hostile_post, owner, owner_client):
        for path in (f"/u/{user_sqid(owner.pk)}/posts", f"/u/{user_sqid(owner.pk)}/"):
            body = owner_client.get(path).content.decode()
            assert SCRIPT not in body
            assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in body
            assert "<img src=x>" not in body

    def test_in_the_json_api_as_exact_data(self, hostile_post, owner_client):
        response = owner_client.get("/api/pmd/posts")
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.json()["items"][0]["title"] == SCRIPT

    def test_in_the_exported_json_as_exact_data_and_never_in_file_names(
        self, hostile_post, owner, eager_tasks
    ):
        bdr = make_bdr(owner, [hostile_post], include_comments=True)
        build.download_request_build(bdr.pk)
        archive = open_zip(bdr)
        assert all("<" not in name and "script" not in name for name in archive.namelist())
        metadata = read_json(archive, "metadata.json")
        assert metadata["artworks"][0]["title"] == SCRIPT
        assert metadata["artworks"][0]["description"] == f"desc {SCRIPT}"
        comments = read_json(archive, "comments.json")["comments_by_artwork"]
        assert [c["body"] for c in comments[hostile_post.public_sqid]] == [f"comment {SCRIPT}"]
        assert storage.zip_name(bdr).endswith(f"{bdr.pk}.zip")

    def test_in_emails(self, hostile_post, owner, eager_tasks):
        owner.first_name = SCRIPT
        owner.save()
        bdr = make_bdr(owner, [hostile_post], send_email=True)
        build.download_request_build(bdr.pk)
        mail.outbox.clear()
        emails.send_download_email(bdr.pk, "ready")
        [message] = mail.outbox
        html = message.alternatives[0][0]
        assert SCRIPT not in html and SCRIPT not in message.subject


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/api/pmd/action", "POST"),
        ("post", "/api/pmd/posts", "GET"),
        ("delete", "/api/pmd/bdr/00000000-0000-4000-8000-000000000000/retry", "POST"),
    ],
)
def test_a_wrong_method_is_a_json_405(owner_client, method, path, allowed):
    response = getattr(owner_client, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response.json() == {"error": f"{method.upper()} is not allowed here; use {allowed}."}
