from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model

from tests.live import session_cookies
from tests.services import require_chromium

# Playwright's sync API keeps an event loop on this thread; the ORM calls the
# tests make between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, asgi_server, transactional_db):
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


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
