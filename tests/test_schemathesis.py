"""schemathesis against the live ASGI server: every operation of
/api/pmd/openapi.json, with generated (valid and invalid) input, as a logged-in
user sending the CSRF token. No answer may be a 5xx, and every answer must
match the published schema (issue 7 §3)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from pmd.models import BatchDownloadRequest
from pmd.openapi import openapi_document
from posts.public_ids import user_sqid
from tests.factories import make_post, make_user
from tests.live import session_cookies

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def caller(asgi_server, django_db_blocker):
    """A user with posts and download requests, its session and CSRF token."""
    with django_db_blocker.unblock():
        user = make_user("schema-user")
        posts = [make_post(user) for _ in range(3)]
        now = timezone.now()
        name = f"bdr/{user_sqid(user.pk)}/schema.zip"
        storages["vault"].save(name, ContentFile(b"PK\x05\x06" + b"\0" * 18))
        BatchDownloadRequest.objects.create(
            user=user, post_ids=[posts[0].pk], artwork_count=1, status="ready", file_path=name,
            file_size_bytes=22, completed_at=now, expires_at=now + timedelta(days=7),
        )  # fmt: skip
        cookies = session_cookies(user)
    token = httpx.get(f"{asgi_server.url}/accounts/login/").cookies["csrftoken"]
    return {"cookies": {**cookies, "csrftoken": token}, "headers": {"X-CSRFToken": token}}


def _operations():
    # schemathesis's own pytest plugin does not run under pytest 9 yet, so
    # each operation gets a parametrized test that runs Hypothesis itself.
    schema = schemathesis.openapi.from_dict(openapi_document())
    return {result.ok().label: result.ok() for result in schema.get_all_operations()}


OPERATIONS = _operations()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_never_fails_and_always_matches_its_schema(label, mode, asgi_server, caller):
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(
            base_url=asgi_server.url,
            cookies=caller["cookies"],
            headers=caller["headers"],
            timeout=15,
        )
        case.validate_response(response, checks=CHECKS)

    check()
