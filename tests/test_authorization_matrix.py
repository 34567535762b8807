"""Every URL of the project × {anonymous, another user, owner, staff}.

The matrix is checked against the URL configuration: a URL without a row
fails `test_every_url_has_a_row`, so no page, partial or endpoint can be
added without saying who may use it. Staff are not the owner: they act on
users' posts through the admin only, where what they do is recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from pmd.models import ActivityEntry, BatchDownloadRequest, Job, SavedView
from posts.public_ids import user_sqid
from testing.factories import PASSWORD, make_post

PERSONAS = ("anonymous", "other", "owner", "staff")


@dataclass(frozen=True)
class Expect:
    status: int
    # For a redirect: where it must lead ("login", "profile", "own-profile", "admin-login",
    # "icon").
    to: str | None = None
    # For a 200 list: it must not hold anything of the owner's.
    own_data_only: bool = False


OK = Expect(200)
TO_LOGIN = Expect(302, "login")
TO_ADMIN_LOGIN = Expect(302, "admin-login")
TO_PROFILE = Expect(302, "profile")
TO_OWN_PROFILE = Expect(302, "own-profile")
API_401 = Expect(401)
NOT_FOUND = Expect(404)
REFUSED = Expect(400)
OWN_DATA = Expect(200, own_data_only=True)
# The staff persona is a superuser, so it holds pmd.act_for_others: it opens
# the owner's dashboard as support (tests/pmd/test_support.py has the rest).
SUPPORT = OK


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # formatted with the world's ids
    expect: dict[str, Expect]
    body: dict | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


def each(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(PERSONAS, expect)


def matrix(anonymous, other, owner, staff) -> dict[str, Expect]:
    return {"anonymous": anonymous, "other": other, "owner": owner, "staff": staff}


ROWS = [
    Row("home", "GET", "/", matrix(TO_LOGIN, TO_OWN_PROFILE, TO_OWN_PROFILE, TO_OWN_PROFILE)),
    Row("login", "GET", "/accounts/login/", each(OK)),
    Row("favicon", "GET", "/favicon.ico", each(Expect(302, "icon"))),
    Row("logout", "POST", "/accounts/logout/", each(Expect(302, "login"))),
    Row("posts:profile", "GET", "/u/{owner_sqid}/", each(OK)),
    Row("posts:art", "GET", "/art/{visible_sqid}", each(OK)),
    Row("posts:art", "GET", "/art/{hidden_sqid}", matrix(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)),
    Row("posts:art-still", "GET", "/art/{visible_sqid}/still", each(OK)),
    Row(
        "posts:art-still",
        "GET",
        "/art/{hidden_sqid}/still",
        matrix(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    ),
    Row(
        "pmd:dashboard",
        "GET",
        "/u/{owner_sqid}/posts",
        matrix(TO_LOGIN, TO_PROFILE, OK, SUPPORT),
    ),
    Row(
        "pmd:recent-activity",
        "GET",
        "/u/{owner_sqid}/posts/activity",
        matrix(TO_LOGIN, TO_PROFILE, OK, SUPPORT),
    ),
    Row(
        "pmd:download-panel",
        "GET",
        "/u/{owner_sqid}/posts/downloads",
        matrix(TO_LOGIN, TO_PROFILE, OK, SUPPORT),
    ),
    Row(
        "pmd:download-row",
        "GET",
        "/u/{owner_sqid}/posts/downloads/{ready_bdr}",
        matrix(TO_LOGIN, TO_PROFILE, OK, SUPPORT),
    ),
    Row(
        "pmd:download-retry",
        "POST",
        "/u/{owner_sqid}/posts/downloads/{failed_bdr}/retry",
        matrix(TO_LOGIN, TO_PROFILE, OK, SUPPORT),
    ),
    Row("pmd:api-posts", "GET", "/api/pmd/posts", matrix(API_401, OWN_DATA, OK, OWN_DATA)),
    Row("pmd:api-post-ids", "GET", "/api/pmd/posts/ids", matrix(API_401, OWN_DATA, OK, OWN_DATA)),
    Row(
        "pmd:api-action",
        "POST",
        "/api/pmd/action",
        matrix(API_401, REFUSED, OK, REFUSED),
        {"action": "hide", "post_ids": ["{visible_id}"]},
    ),
    Row(
        "pmd:api-action-undo",
        "POST",
        "/api/pmd/action/undo",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
        {"activity_id": "{hide_activity}"},
    ),
    Row(
        "pmd:api-edit-preview",
        "POST",
        "/api/pmd/edit/preview",
        matrix(API_401, REFUSED, OK, REFUSED),
        {"post_ids": ["{visible_id}"], "title": {"op": "suffix", "value": "!"}},
    ),
    Row(
        "pmd:api-edit-current",
        "POST",
        "/api/pmd/edit/current",
        matrix(API_401, REFUSED, OK, REFUSED),
        {"post_ids": ["{visible_id}"]},
    ),
    # Without a preview's token even the owner is refused (tests/pmd/test_bulk_edit.py
    # applies with one); others never reach the posts.
    Row(
        "pmd:api-edit",
        "POST",
        "/api/pmd/edit",
        matrix(API_401, REFUSED, REFUSED, REFUSED),
        {"post_ids": ["{visible_id}"], "title": {"op": "suffix", "value": "!"}, "token": "x"},
    ),
    # Each caller's own hashtags (tests/pmd/test_hashtag_manager.py: never another's).
    Row("pmd:api-hashtags", "GET", "/api/pmd/hashtags", matrix(API_401, OK, OK, OK)),
    # Another user has no posts tagged so: refused, and nobody's posts change.
    Row(
        "pmd:api-hashtags-rename",
        "POST",
        "/api/pmd/hashtags/rename",
        matrix(API_401, REFUSED, REFUSED, REFUSED),
        {"hashtag": "nosuchtag", "to": "other"},
    ),
    Row(
        "pmd:api-hashtags-remove",
        "POST",
        "/api/pmd/hashtags/remove",
        matrix(API_401, REFUSED, REFUSED, REFUSED),
        {"hashtag": "nosuchtag"},
    ),
    Row(
        "pmd:api-action-undo-preview",
        "POST",
        "/api/pmd/action/undo-preview",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
        {"activity_ids": ["{hide_activity}"]},
    ),
    Row("pmd:api-bdr-sse", "GET", "/api/pmd/bdr/sse", matrix(API_401, OK, OK, OK)),
    # Only the page's own parameter; django-eventstream's (channels) are refused.
    *(
        Row("pmd:api-bdr-sse", "GET", f"/api/pmd/bdr/sse?{query}", matrix(API_401, *[REFUSED] * 3))
        for query in (
            "es-meta=x",
            "recover=true",
            "channel=user-{owner_id}",
            "channels=user-{owner_id}",
            "link=next",
            "lastEventId=abc",
            "lastEventId=user-{owner_id}:x",
        )
    ),
    Row("pmd:api-bdr-list", "GET", "/api/pmd/bdr", matrix(API_401, OWN_DATA, OK, OWN_DATA)),
    Row(
        "pmd:api-bdr-list",
        "POST",
        "/api/pmd/bdr",
        matrix(API_401, REFUSED, Expect(201), REFUSED),
        {"post_ids": ["{visible_id}"]},
    ),
    Row(
        "pmd:api-bdr-table-order",
        "POST",
        "/api/pmd/bdr/table-order",
        matrix(API_401, REFUSED, OK, REFUSED),
        {"post_ids": ["{visible_id}"], "sort": "title"},
    ),
    Row(
        "pmd:api-bdr-detail",
        "GET",
        "/api/pmd/bdr/{ready_bdr}",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
    ),
    Row(
        "pmd:api-bdr-download",
        "GET",
        "/api/pmd/bdr/{ready_bdr}/download",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
    ),
    Row(
        "pmd:api-bdr-retry",
        "POST",
        "/api/pmd/bdr/{failed_bdr}/retry",
        matrix(API_401, NOT_FOUND, Expect(201), NOT_FOUND),
    ),
    Row("pmd:api-job-list", "GET", "/api/pmd/jobs", matrix(API_401, OWN_DATA, OK, OWN_DATA)),
    Row(
        "pmd:api-job-list",
        "POST",
        "/api/pmd/jobs",
        matrix(API_401, REFUSED, Expect(202), REFUSED),
        {"action": "hide", "post_ids": ["{visible_id}"]},
    ),
    Row(
        "pmd:api-job-detail",
        "GET",
        "/api/pmd/jobs/{done_job}",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
    ),
    Row(
        "pmd:api-job-cancel",
        "POST",
        "/api/pmd/jobs/{done_job}/cancel",
        matrix(API_401, NOT_FOUND, Expect(409), NOT_FOUND),
    ),
    Row(
        "pmd:api-job-undo",
        "POST",
        "/api/pmd/jobs/{done_job}/undo",
        matrix(API_401, NOT_FOUND, Expect(202), NOT_FOUND),
    ),
    Row("pmd:api-views", "GET", "/api/pmd/views", matrix(API_401, OWN_DATA, OK, OWN_DATA)),
    Row(
        "pmd:api-views",
        "POST",
        "/api/pmd/views",
        matrix(API_401, Expect(201), Expect(201), Expect(201)),
        {"name": "A view of one's own"},
    ),
    Row(
        "pmd:api-views-order",
        "POST",
        "/api/pmd/views/order",
        matrix(API_401, REFUSED, OK, REFUSED),
        {"ids": ["{owner_view}"]},
    ),
    Row(
        "pmd:api-view",
        "PATCH",
        "/api/pmd/views/{owner_view}",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
        {"name": "Renamed"},
    ),
    Row(
        "pmd:api-view",
        "DELETE",
        "/api/pmd/views/{owner_view}",
        matrix(API_401, NOT_FOUND, OK, NOT_FOUND),
    ),
    Row("pmd:api-openapi", "GET", "/api/pmd/openapi.json", each(OK)),
    # Health: open to everyone (probes have no session); only staff get the
    # per-check detail (tests/health). No worker runs here, so never ready.
    Row("health-live", "GET", "/health/live", each(OK)),
    Row("health-ready", "GET", "/health/ready", each(Expect(503))),
    # Prometheus metrics: for a bearer token only, never a session; with no
    # token configured (the default) not there at all (tests/telemetry).
    Row("metrics", "GET", "/metrics", each(NOT_FOUND)),
    # The admin: staff only. One row per admin page kind support uses.
    Row("admin:*", "GET", "/admin/", matrix(TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, OK)),
    Row(
        "admin:*",
        "GET",
        "/admin/posts/post/",
        matrix(TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, OK),
    ),
    Row(
        "admin:*",
        "GET",
        "/admin/pmd/batchdownloadrequest/{ready_bdr}/change/",
        matrix(TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, OK),
    ),
    Row(
        "admin:*",
        "GET",
        "/admin/pmd/activityentry/",
        matrix(TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, OK),
    ),
    Row(
        "admin:*",
        "GET",
        "/admin/django_celery_beat/periodictask/",
        matrix(TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, TO_ADMIN_LOGIN, OK),
    ),
]


def _url_names() -> set[str]:
    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif namespace == "admin":
                yield "admin:*"
            else:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return set(walk(get_resolver().url_patterns))


def test_every_url_has_a_row():
    assert _url_names() == {row.name for row in ROWS}


@pytest.fixture
def world(db, owner, other, staff):
    """The owner's posts, download requests and activity, seen by everyone."""
    visible = make_post(owner, title="Visible one")
    hidden = make_post(owner, title="Hidden one", hidden_by_user=True)
    now = timezone.now()
    name = f"bdr/{user_sqid(owner.pk)}/matrix.zip"
    storages["vault"].save(name, ContentFile(b"PK\x05\x06" + b"\0" * 18))
    ready = BatchDownloadRequest.objects.create(
        user=owner, post_ids=[visible.pk], artwork_count=1, status="ready", file_path=name,
        file_size_bytes=22, completed_at=now, expires_at=now + timedelta(days=7),
    )  # fmt: skip
    failed = BatchDownloadRequest.objects.create(
        user=owner, post_ids=[visible.pk], artwork_count=1, status="failed", error_message="x"
    )
    view = SavedView.objects.create(user=owner, name="Owner's view", search="#secret")
    hid = ActivityEntry.objects.create(
        user=owner, action="hide", post_ids=[hidden.pk], changed_ids=[hidden.pk], count=1
    )
    done = Job.objects.create(
        user=owner, action="hide", post_ids=[hidden.pk], total=1, done=1, changed=1,
        status="done", finished_at=now,
    )  # fmt: skip
    ActivityEntry.objects.create(
        user=owner, action="hide", post_ids=[hidden.pk], changed_ids=[hidden.pk], count=1,
        job=done, chunk=0,
    )  # fmt: skip
    return {
        "owner": owner,
        "ids": {
            "owner_sqid": user_sqid(owner.pk),
            "owner_id": owner.pk,
            "visible_sqid": visible.public_sqid,
            "hidden_sqid": hidden.public_sqid,
            "visible_id": visible.pk,
            "ready_bdr": ready.pk,
            "failed_bdr": failed.pk,
            "hide_activity": hid.pk,
            "done_job": done.pk,
            "owner_view": view.pk,
        },
        "owner_view_names": {view.name},
        "owner_post_ids": {visible.pk, hidden.pk},
        "owner_bdr_ids": {str(ready.pk), str(failed.pk), str(done.pk)},
        "users": {"owner": owner, "other": other, "staff": staff},
    }


def _client(persona: str, world) -> Client:
    client = Client()
    if persona != "anonymous":
        # Through the log-in page, as a person does (django-axes needs the
        # request, which Client.login() does not give).
        credentials = {"username": world["users"][persona].username, "password": PASSWORD}
        assert client.post("/accounts/login/", credentials).status_code == 302
    return client


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _check_redirect(response, expect: Expect, persona: str, world) -> None:
    location = response["Location"]
    own = world["users"].get(persona)
    expected = {
        "login": "/accounts/login/",
        "admin-login": "/admin/login/",
        "profile": f"/u/{world['ids']['owner_sqid']}/",
        "own-profile": f"/u/{user_sqid(own.pk)}/" if own else None,
        "icon": "/static/favicon.",
    }[expect.to]
    assert location.startswith(expected), location


def _check_own_data(response, world) -> None:
    data = response.json()
    items = data.get("items", data.get("ids", []))
    seen = {item["id"] if isinstance(item, dict) else item for item in items}
    assert not seen & (world["owner_post_ids"] | world["owner_bdr_ids"])
    names = {item.get("name") for item in items if isinstance(item, dict)}
    assert not names & world["owner_view_names"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_each_url_answers_each_persona_as_specified(row, persona, world):
    ids = world["ids"]
    client = _client(persona, world)
    path = row.path.format(**ids)
    if row.method == "GET":
        response = client.get(path)
    else:
        body = json.dumps(_fill(row.body, ids)) if row.body else ""
        response = client.generic(row.method, path, body, content_type="application/json")
    expect = row.expect[persona]
    assert response.status_code == expect.status, (row, persona, response.content[:300])
    if expect.to:
        _check_redirect(response, expect, persona, world)
    if expect.own_data_only:
        _check_own_data(response, world)
    if response.status_code >= 400 and path.startswith("/api/"):
        assert set(response.json()) == {"error"}
    if getattr(response, "streaming", False):
        response.close()


@pytest.mark.parametrize("login_path", ["/accounts/login/", "/admin/login/"])
@pytest.mark.parametrize("persona", ["other", "owner", "staff"])
def test_guessing_a_password_is_stopped_on_every_login_page(login_path, persona, world):
    """Brute force: ten wrong passwords, then the right one does not log in."""
    username = world["users"][persona].username
    client = Client()
    statuses = [
        client.post(login_path, {"username": username, "password": f"guess-{n}"}).status_code
        for n in range(10)
    ]
    assert statuses == [200] * 9 + [429]
    response = client.post(login_path, {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
