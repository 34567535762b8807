from __future__ import annotations

import pytest
from django.test import Client

from pmd_project.login import MAX_FAILURES_PER_ACCOUNT
from tests.factories import PASSWORD
from tests.services import require_redis


@pytest.fixture
def redis_cache(settings):
    require_redis()
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def _log_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


class TestLogin:
    def test_it_logs_in_and_goes_to_next(self, owner):
        response = Client().post(
            "/accounts/login/",
            {"username": "alice", "password": PASSWORD, "next": "/u/x/posts"},
        )
        assert response.status_code == 302
        assert response["Location"] == "/u/x/posts"

    def test_it_stops_guessing_after_ten_failures(self, owner, redis_cache):
        client = Client()
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            response = _log_in(client, "alice", "wrong-password")
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.content.decode()
        response = _log_in(client, "alice", PASSWORD)
        assert response.status_code == 429
        assert "Too many failed log-in attempts" in response.content.decode()
        assert "_auth_user_id" not in client.session
        # Another account from the same address is not locked by alice's failures.
        assert _log_in(Client(), "bob", "wrong-password").status_code == 200

    def test_a_success_clears_the_account_failures(self, owner, redis_cache):
        client = Client()
        for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
            _log_in(client, "alice", "wrong-password")
        assert _log_in(client, "alice", PASSWORD).status_code == 302
        client.post("/accounts/logout/")
        for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
            _log_in(client, "alice", "wrong-password")
        assert _log_in(client, "alice", PASSWORD).status_code == 302

    def test_pages_carry_a_content_security_policy(self, client):
        policy = client.get("/accounts/login/")["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "'unsafe-eval'" not in policy
        assert "frame-ancestors 'none'" in policy
