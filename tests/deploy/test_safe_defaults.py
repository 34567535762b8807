"""Safe defaults: a process started with nothing but its database is not in
debug mode, runs on no key anyone can read in the repository, commits no
other subdomain to HTTPS, pools its PostgreSQL connections, and marks what
belongs to a signed-in person as private to them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from pmd_project.settings import DEVELOPMENT_SECRET_KEY
from posts.public_ids import user_sqid
from testing.factories import make_post, make_user
from testing.live import ROOT, session_cookies

PRIVATE = {"private", "no-store"}
PRINT_SETTINGS = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'DEBUG': s.DEBUG, "
    "'HSTS': [s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD], "
    "'OPTIONS': s.DATABASES['default'].get('OPTIONS', {}), "
    "'CONN_MAX_AGE': s.DATABASES['default']['CONN_MAX_AGE']}))"
)


def _settings_of_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    """A process's settings, started with `env` and none of the variables
    of this test run (the test process itself runs with DEBUG on)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SECRET_KEY", "DATABASE_", "SECURE_", "DJANGO_ALLOW"))
    }
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "pmd_project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settings(**env: str) -> dict:
    result = _settings_of_a_fresh_process(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _cache_control(response: httpx.Response) -> set[str]:
    value = response.headers.get("cache-control", "")
    return {part.strip().split("=")[0] for part in value.split(",") if part.strip()}


class TestDebugAndKey:
    def test_debug_is_off_unless_set(self):
        assert _settings(SECRET_KEY="k" * 50)["DEBUG"] is False
        assert _settings(DEBUG="1")["DEBUG"] is True

    @pytest.mark.parametrize("key", ["", DEVELOPMENT_SECRET_KEY])
    def test_without_debug_it_refuses_to_start_on_no_key_or_the_committed_one(self, key):
        result = _settings_of_a_fresh_process(SECRET_KEY=key)
        assert result.returncode != 0
        assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


class TestHsts:
    def test_subdomains_and_preload_are_opt_in(self):
        seconds, subdomains, preload = _settings(SECRET_KEY="k" * 50)["HSTS"]
        assert (seconds, subdomains, preload) == (31536000, False, False)
        opted_in = _settings(
            SECRET_KEY="k" * 50, SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1"
        )
        assert opted_in["HSTS"][1:] == [True, True]


class TestDatabaseConnections:
    POSTGRES = "postgres://pmd@db.example.com:5432/pmd"

    def test_postgresql_connections_are_pooled_by_default(self):
        options = _settings(SECRET_KEY="k" * 50, DATABASE_URL=self.POSTGRES)["OPTIONS"]
        assert options["pool"]["max_size"] == 20
        # Gives up retrying a dead server after seconds, so that requests
        # after a PostgreSQL restart start a fresh attempt.
        assert options["pool"]["reconnect_timeout"] <= 10
        assert options["connect_timeout"] == 5

    def test_persistent_connections_or_an_explicit_no_turn_the_pool_off(self):
        for env in ({"DATABASE_POOL": "0"}, {"DATABASE_CONN_MAX_AGE": "60"}):
            settings = _settings(SECRET_KEY="k" * 50, DATABASE_URL=self.POSTGRES, **env)
            assert "pool" not in settings["OPTIONS"], env


@pytest.mark.usefixtures("transactional_db")
class TestPrivateAnswers:
    """Through a production process (DEBUG off, uvicorn)."""

    def test_a_signed_in_persons_pages_and_api_answers_are_private(self, asgi_server):
        owner = make_user("private-owner")
        make_post(owner, write_file=False)
        with httpx.Client(
            base_url=asgi_server.url, cookies=session_cookies(owner), timeout=10
        ) as client:
            dashboard = client.get(f"/u/{user_sqid(owner.pk)}/posts")
            api = client.get("/api/pmd/posts")
            profile = client.get(f"/u/{user_sqid(owner.pk)}/")
        for response in (dashboard, api, profile):
            assert response.status_code == 200, response.url
            assert _cache_control(response) >= PRIVATE, (response.url, response.headers)

    def test_anonymous_pages_static_files_and_health_are_left_as_they_were(self, asgi_server):
        owner = make_user("public-owner")
        with httpx.Client(base_url=asgi_server.url, timeout=10) as client:
            profile = client.get(f"/u/{user_sqid(owner.pk)}/")
            stylesheet = client.get("/static/css/site.css")
            live = client.get("/health/live")
            refused = client.get("/api/pmd/posts")  # an API answer, even a refusal
        assert profile.status_code == 200
        assert "cache-control" not in profile.headers
        assert "private" not in _cache_control(stylesheet)
        assert "max-age" in _cache_control(stylesheet)
        assert "no-store" in _cache_control(live)  # never cached, as before
        assert refused.status_code == 401
        assert _cache_control(refused) >= PRIVATE
