from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from posts.public_ids import user_sqid
from testing.factories import make_user
from testing.live import EVENT_CHANNEL_PREFIX, AsgiServer
from testing.services import is_postgresql, require_redis

# Real Celery workers and SMTP server, and one Celery queue per test run.
pytest_plugins = ["testing.worker", "testing.chaos", "testing.objectstore"]


def pytest_configure(config):
    # Importing settings writes nothing (a read-only image must start), so the
    # folders of the SQLite test database and of WhiteNoise's STATIC_ROOT
    # (missing, it warns on every start without DEBUG) are made here.
    from django.conf import settings

    # A key of this run's own, shared with the servers and workers it starts
    # (testing.live.process_env): they run with DEBUG off, which refuses the
    # development key.
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    test_database = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    for folder in [settings.STATIC_ROOT, *([Path(test_database).parent] if test_database else [])]:
        Path(folder).mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.nodeid.split("::")[0]:
            item.add_marker(pytest.mark.browser)
    # Browser tests last: Playwright's sync API leaves an event loop on the
    # main thread, where Django's test client can no longer call async views.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _postgresql_only(request):
    # A choice of database, not a missing service: these tests check
    # behaviour (row locks under concurrency) that SQLite does not have.
    if request.node.get_closest_marker("postgresql_only") and not is_postgresql():
        pytest.skip("PostgreSQL-only behaviour; this run is on SQLite")


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # Django's default PBKDF2 costs ~0.3 s per hash: most tests create users.
    with override_settings(PASSWORD_HASHERS=["tests.hashers.OneIterationPBKDF2PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _celery_configured_from_the_real_settings():
    # Celery reads its configuration once, on first use: read it now, so a test
    # that overrides a broker setting cannot leave its value for all that follow.
    from pmd_project.celery import app

    assert app.conf.broker_url


@pytest.fixture(autouse=True)
def _isolated_events(settings):
    settings.PMD_EVENT_CHANNEL_PREFIX = EVENT_CHANNEL_PREFIX


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Ids repeat across test runs; cached values must not.
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"pmd-test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }


@pytest.fixture(scope="session")
def session_vault(tmp_path_factory):
    """One vault for the whole run, shared with the servers and workers tests start."""
    return tmp_path_factory.mktemp("vault")


def _vault_in(settings, root: Path) -> Path:
    settings.PMD_VAULT_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


@pytest.fixture(autouse=True)
def vault(settings, session_vault):
    return _vault_in(settings, session_vault)


@pytest.fixture
def own_vault(settings, tmp_path):
    """A vault of this test's own, empty: the run's vault holds other tests'
    folders, and ids repeat between tests."""
    return _vault_in(settings, tmp_path)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, session_vault):
    """uvicorn serving the project on the test database, as `make run` does."""
    require_redis()
    from testing.worker import TEST_QUEUE

    with django_db_blocker.unblock():
        server = AsgiServer(
            PMD_VAULT_ROOT=str(session_vault), CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE
        ).start()
    yield server
    server.stop()


@pytest.fixture
def owner(db):
    return make_user("alice")


@pytest.fixture
def other(db):
    return make_user("bob")


@pytest.fixture
def staff(db):
    return make_user("carol", is_staff=True, is_superuser=True)


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def other_client(other) -> Client:
    client = Client()
    client.force_login(other)
    return client


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def owner_sqid(owner) -> str:
    return user_sqid(owner.pk)


@pytest.fixture
def user_model():
    return get_user_model()
