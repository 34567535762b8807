"""Every URL pattern of the project (the admin's included), requested with
generated path parameters and query strings, as anonymous, as the owner and
as staff: no answer may be a 5xx (property-based fuzzing, with hypothesis).

Paths are drawn from each pattern's own regex, so they reach the view behind
it; values mix arbitrary text with the shapes that broke before (sqids beyond
2**63, thousands of digits, Unicode digits, NUL)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmd.models import ActivityEntry, BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_comment, make_post, make_reaction

PERSONAS = ("anonymous", "owner", "staff")
TEXT = st.characters(codec="utf-8")
HOSTILE = st.sampled_from(
    ["Zz9Qx7Wv3Ku5Ty1", "9" * 5000, "99999999999", "9999", "²", "١٢", "\x00", "-1", "0", "1e9"]
    + ["%00", "../..", ""]
)
VALUES = st.text(alphabet=TEXT, max_size=30) | HOSTILE | st.integers().map(str)
# What the project's views and the admin read, and some names nobody reads.
PARAMETERS = st.sampled_from(
    [
        "limit", "cursor", "q", "page", "size", "sort", "dir", "visibility", "format", "view",
        "bdr", "next", "lastEventId", "o", "p", "e", "all", "_changelist_filters", "_to_field",
        "created_at__year", "created_at__month", "created_at__day", "kind__exact",
        "action__exact", "status__exact", "hidden_by_user__exact", "user__id__exact",
    ]
) | st.text(alphabet=TEXT, max_size=8)  # fmt: skip
QUERIES = st.dictionaries(PARAMETERS, VALUES, max_size=4)


def _or_one_of(regex: str, values: list[str]) -> str:
    """`regex` whose path parameters may also be one of `values` (real ids,
    so requests get past the lookup, and hostile ones)."""
    choices = "".join(f"{re.escape(value)}|" for value in values)
    return re.sub(r"\(\?P<(\w+)>", lambda group: f"{group[0]}{choices}", regex)


def _route_regexes() -> list[str]:
    def walk(patterns, prefix: str):
        for pattern in patterns:
            regex = prefix + pattern.pattern.regex.pattern.lstrip("^")
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, regex)
            else:
                yield regex

    return sorted(set(walk(get_resolver().url_patterns, "")))


ROUTES = _route_regexes()
# One test walks every route (so the world is built once). Our own pages and
# API get more examples than each of Django's ~80 admin routes, and the walk
# stays near half a minute.
OWN_EXAMPLES, ADMIN_EXAMPLES = 30, 4


@pytest.fixture
def world(db, owner, staff):
    """The owner's world (posts, comments, download requests, activity) and a
    client per persona."""
    post = make_post(owner, title="Frog")
    make_post(owner, hidden_by_user=True)
    make_comment(post, body="hi")
    make_reaction(post, staff)
    name = f"bdr/{user_sqid(owner.pk)}/fuzz.zip"
    storages["vault"].save(name, ContentFile(b"PK\x05\x06" + b"\0" * 18))
    now = timezone.now()
    bdr = BatchDownloadRequest.objects.create(
        user=owner, post_ids=[post.pk], artwork_count=1, status="ready", file_path=name,
        file_size_bytes=22, completed_at=now, expires_at=now + timedelta(days=7),
    )  # fmt: skip
    ActivityEntry.objects.create(user=owner, action="hide", post_ids=[post.pk], count=1)
    users = {"owner": owner, "staff": staff}
    result = {}
    for persona in PERSONAS:
        client = Client()
        if persona in users:
            client.force_login(users[persona])
        result[persona] = client
    ids = [user_sqid(owner.pk), post.public_sqid, str(bdr.pk), str(post.pk), str(owner.pk)]
    return result, ids


def test_every_route_is_fuzzed():
    # The walk sees the admin, the pages and the API alike.
    assert len(ROUTES) > 40
    assert any(route.startswith("admin/") for route in ROUTES)
    assert any(route.startswith("api/pmd/") for route in ROUTES)
    assert any(route.startswith("u/") for route in ROUTES)


# A real transaction: the event stream closes its database connection once
# it has checked the caller (so an open tab holds no connection), which a
# test's transaction would not survive.
@pytest.mark.django_db(transaction=True)
def test_no_generated_request_is_answered_with_a_5xx(world):
    clients, ids = world
    path_values = ids + ["Zz9Qx7Wv3Ku5Ty1", "9" * 5000, "99999999999", "²", "١٢", "\x00", "-1"]
    failures = []
    for route in ROUTES:
        # Readiness answers 503 while no worker or beat runs here: the state
        # of the services, whatever the input.
        allowed = {503} if route.startswith("health/ready") else set()

        @given(
            path=st.from_regex(_or_one_of(route, path_values), fullmatch=True, alphabet=TEXT),
            query=QUERIES,
            persona=st.sampled_from(PERSONAS),
        )
        @settings(
            max_examples=ADMIN_EXAMPLES if route.startswith("admin/") else OWN_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def request(path, query, persona):
            url = "/" + quote(path, safe="/")
            response = clients[persona].get(url, query)
            if getattr(response, "streaming", False):
                response.close()
            assert response.status_code < 500 or response.status_code in allowed, (  # noqa: B023
                persona,
                url,
                query,
            )

        try:
            request()
        except Exception as failure:  # collected, so one run reports every route
            failures.append(f"{route}: {failure!r}")
    assert not failures, "\n".join(failures)
    assert get_user_model().objects.count() == 2  # nothing was created on the way
