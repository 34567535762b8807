"""Log-in limits (django-axes): every log-in path, one count per normalised
username and client address, so no path is a way around the limit."""

from __future__ import annotations

import re

import httpx
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pmd_project.login_limits import lockout_username
from testing.factories import PASSWORD, make_user
from tests.headers import csp_directives

SITE_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LIMIT = 10
WRONG = "wrong-password"


def _log_in(client: Client, username: str, password: str, path: str = SITE_LOGIN):
    return client.post(path, {"username": username, "password": password})


def _fail(client: Client, username: str, times: int, path: str = SITE_LOGIN) -> list[int]:
    return [_log_in(client, username, WRONG, path).status_code for _ in range(times)]


def _assert_locked_page(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<html" in html
    assert "Wait 15 minutes, then try again." in html


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_policy_is_ten_failures_then_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


class TestSiteLogin:
    def test_it_logs_in_and_goes_to_next(self, owner):
        response = Client().post(
            SITE_LOGIN, {"username": "alice", "password": PASSWORD, "next": "/u/x/posts"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/u/x/posts"

    def test_it_stops_guessing_at_the_tenth_failure(self, owner, other):
        client = Client()
        for status in _fail(client, "alice", LIMIT - 1):
            assert status == 200
        _assert_locked_page(_log_in(client, "alice", WRONG))
        # Locked: the right password does not get in either.
        _assert_locked_page(_log_in(client, "alice", PASSWORD))
        assert not _logged_in(client)
        # Another account from the same address is not locked by alice's failures.
        assert _log_in(Client(), "bob", WRONG).status_code == 200
        assert _log_in(Client(), "bob", PASSWORD).status_code == 302

    def test_a_success_clears_the_account_failures(self, owner):
        client = Client()
        _fail(client, "alice", LIMIT - 1)
        assert _log_in(client, "alice", PASSWORD).status_code == 302
        client.post("/accounts/logout/")
        _fail(client, "alice", LIMIT - 1)
        assert _log_in(client, "alice", PASSWORD).status_code == 302

    def test_the_count_is_per_client_address(self, owner):
        _fail(Client(), "alice", LIMIT)
        elsewhere = Client(REMOTE_ADDR="192.0.2.7")
        assert _log_in(elsewhere, "alice", PASSWORD).status_code == 302

    def test_a_forwarded_for_header_does_not_choose_the_address(self, owner):
        # Only the ASGI server may turn X-Forwarded-For into the client address
        # (for trusted proxies); a client sending it gets no fresh count.
        for number in range(LIMIT):
            Client(HTTP_X_FORWARDED_FOR=f"198.51.100.{number}").post(
                SITE_LOGIN, {"username": "alice", "password": WRONG}
            )
        _assert_locked_page(
            Client(HTTP_X_FORWARDED_FOR="198.51.100.99").post(
                SITE_LOGIN, {"username": "alice", "password": PASSWORD}
            )
        )

    def test_unicode_and_case_variants_count_against_one_account(self, db):
        make_user("demo")
        client = Client()
        variants = ["ｄemo", "dｅmo", "𝐝𝐞𝐦𝐨", "DEMO", " demo "]
        statuses = [
            _log_in(client, variants[number % len(variants)], WRONG).status_code
            for number in range(LIMIT - 1)
        ]
        assert statuses == [200] * (LIMIT - 1)
        _assert_locked_page(_log_in(client, "𝐝𝐞𝐦𝐨", WRONG))
        for name in ["demo", *variants]:
            _assert_locked_page(_log_in(client, name, PASSWORD))
        assert not _logged_in(client)

    def test_a_failed_attempt_costs_a_few_queries(self, owner):
        client = Client()
        _log_in(client, "alice", WRONG)
        with CaptureQueriesContext(connection) as queries:
            assert _log_in(client, "alice", WRONG).status_code == 200
        # Measured 8 (PostgreSQL): the lock-out check, the user, expired rows
        # to clean, the attempt row locked and updated, the count again.
        assert len(queries) <= 8, [query["sql"] for query in queries.captured_queries]

    def test_pages_carry_a_content_security_policy(self, client):
        policy = client.get(SITE_LOGIN)["Content-Security-Policy"]
        directives = csp_directives(policy)
        assert directives["script-src"] == ["'self'"]
        assert "'unsafe-eval'" not in policy
        assert directives["frame-ancestors"] == ["'none'"]
        # A local vault is this site: images come from nowhere else.
        assert directives["img-src"] == ["'self'", "data:"]


class TestOverUvicorn:
    """The address counted is the one uvicorn gives Django as REMOTE_ADDR:
    the peer's, or the X-Forwarded-For address when the peer is a trusted
    proxy (uvicorn's FORWARDED_ALLOW_IPS, loopback by default)."""

    @staticmethod
    def _log_in(http: httpx.Client, password: str, forwarded_for: str) -> int:
        page = http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = http.post(
            "/accounts/login/",
            data={"username": "alice", "password": password, "csrfmiddlewaretoken": token},
            headers={"X-Forwarded-For": forwarded_for},
        )
        return response.status_code

    def test_a_trusted_proxys_forwarded_address_is_counted(
        self, transactional_db, asgi_server, owner
    ):
        with httpx.Client(base_url=asgi_server.url, timeout=10) as http:
            statuses = [self._log_in(http, WRONG, "203.0.113.5") for _ in range(LIMIT)]
            assert statuses == [200] * (LIMIT - 1) + [429]
            assert self._log_in(http, PASSWORD, "203.0.113.5") == 429
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
        with httpx.Client(base_url=asgi_server.url, timeout=10) as http:
            assert self._log_in(http, PASSWORD, "203.0.113.6") == 302


class TestAdminLogin:
    def test_sixty_wrong_staff_passwords_then_the_right_one_does_not_log_in(self, staff):
        client = Client()
        statuses = _fail(client, "carol", 60, ADMIN_LOGIN)
        assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
        assert set(statuses[LIMIT - 1 :]) == {429}
        response = _log_in(client, "carol", PASSWORD, ADMIN_LOGIN)
        _assert_locked_page(response)
        assert not _logged_in(client)
        assert client.get("/admin/").status_code == 302
        # Tries during the lock-out are not even written down.
        assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == LIMIT

    def test_an_account_locked_on_the_site_is_locked_on_the_admin(self, staff):
        _fail(Client(), "carol", LIMIT)
        _assert_locked_page(_log_in(Client(), "carol", PASSWORD, ADMIN_LOGIN))

    def test_an_account_locked_on_the_admin_is_locked_on_the_site(self, staff):
        _fail(Client(), "carol", LIMIT, ADMIN_LOGIN)
        _assert_locked_page(_log_in(Client(), "carol", PASSWORD))

    def test_failures_on_both_pages_add_up(self, staff):
        _fail(Client(), "carol", LIMIT // 2)
        _fail(Client(), "Carol", LIMIT // 2, ADMIN_LOGIN)
        _assert_locked_page(_log_in(Client(), "carol", PASSWORD, ADMIN_LOGIN))

    def test_staff_log_in_when_not_locked(self, staff):
        client = Client()
        response = _log_in(client, "carol", PASSWORD, ADMIN_LOGIN)
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("typed", "counted"),
    [
        ("demo", "demo"),
        ("ｄemo", "demo"),
        ("dｅmo", "demo"),
        ("𝐝𝐞𝐦𝐨", "demo"),
        ("DeMo", "demo"),
        ("  demo\u3000", "demo"),
        ("Straße", "strasse"),
        ("x" * 400, "x" * 150),
    ],
)
def test_lockout_username_is_what_the_form_logs_in_with_case_folded(rf, typed, counted):
    assert lockout_username(rf.post("/", {"username": typed}), None) == counted
    assert lockout_username(rf.post("/"), {"username": typed}) == counted


def test_lockout_username_without_one_is_none(rf):
    assert lockout_username(rf.post("/"), None) is None
    assert lockout_username(rf.post("/"), {"username": None}) is None
