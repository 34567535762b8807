from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from testing.live import session_cookies
from testing.services import CHROMIUM_ARGS, require_chromium

# Playwright's sync API keeps an event loop on this thread; the ORM calls the
# tests make between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Steps and assertions wait alike: an assertion that follows a long step (300
# rows re-rendered after three requests) gets as long as the step had.
BROWSER_TIMEOUT_MS = 10_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)


# pytest-playwright gives browser, context and page, and on failure keeps a
# trace and a screenshot under test-results/ (pyproject addopts). It launches
# Debian's Chromium, never a browser build of its own.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": require_chromium(),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(asgi_server):
    """Where pages go: the plugin's browser_context_args passes it on."""
    return asgi_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@pytest.fixture
def context(context, transactional_db):
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context


@pytest.fixture
def log_in(asgi_server):
    """Sign a user in by handing the browser a real session cookie."""

    def sign_in(page, user) -> None:
        page.context.add_cookies(
            [
                {"name": name, "value": value, "url": asgi_server.url}
                for name, value in session_cookies(user).items()
            ]
        )

    return sign_in


@pytest.fixture
def user_model():
    return get_user_model()
