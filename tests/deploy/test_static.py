"""Static files as deployed: with DEBUG off, collectstatic's content-hashed
names (collected by the web process itself), served by WhiteNoise as
immutable for a long time; in development (make run's DEBUG=1), the source
files under their own names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pmd_project.static import STAMP
from testing.live import ROOT, AsgiServer

HASHED_CSS = re.compile(r'href="(/static/css/site\.([0-9a-f]{12})\.css)"')
ONE_YEAR = 365 * 24 * 3600


def _max_age(response: httpx.Response) -> int:
    match = re.search(r"max-age=(\d+)", response.headers["cache-control"])
    assert match, response.headers["cache-control"]
    return int(match[1])


def test_a_production_server_serves_hashed_names_cached_for_a_year(asgi_server):
    page = httpx.get(f"{asgi_server.url}/accounts/login/", timeout=10)
    assert page.status_code == 200
    found = HASHED_CSS.search(page.text)
    assert found, "the page links the stylesheet under its hashed name"
    hashed = httpx.get(f"{asgi_server.url}{found[1]}", timeout=10)
    assert hashed.status_code == 200
    assert hashed.headers["content-type"].startswith("text/css")
    assert _max_age(hashed) >= ONE_YEAR
    assert "immutable" in hashed.headers["cache-control"]
    assert hashed.text == (ROOT / "static" / "css" / "site.css").read_text()
    # The unhashed name may change under the same URL: it is cached briefly.
    plain = httpx.get(f"{asgi_server.url}/static/css/site.css", timeout=10)
    assert plain.status_code == 200
    assert _max_age(plain) < 3600


def test_a_production_server_sends_compressed_files_to_who_accepts_them(asgi_server):
    page = httpx.get(f"{asgi_server.url}/accounts/login/", timeout=10)
    script = re.search(r'src="(/static/js/site\.[0-9a-f]{12}\.js)"', page.text)
    assert script, page.text
    response = httpx.get(
        f"{asgi_server.url}{script[1]}", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == (ROOT / "static" / "js" / "site.js").read_text()


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({"DEBUG": "1"}, "django.contrib.staticfiles.storage.StaticFilesStorage"),
        ({"DEBUG": "0"}, "whitenoise.storage.CompressedManifestStaticFilesStorage"),
        (
            {"DEBUG": "0", "PMD_STATIC_MANIFEST": "0"},
            "django.contrib.staticfiles.storage.StaticFilesStorage",
        ),
    ],
)
def test_hashed_names_are_on_exactly_when_debug_is_off(env, backend):
    # make run keeps DEBUG on: the source files, edits show at once.
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "PMD_STATIC_MANIFEST"}}
    clean.update(DJANGO_SETTINGS_MODULE="pmd_project.settings", SECRET_KEY="k" * 50)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Finders serve the source folders; with the manifest only collected files.
    finders = backend.endswith("StaticFilesStorage") and "Manifest" not in backend
    assert result.stdout.split() == [backend, str(finders)]


def test_the_deployment_installs_brotli_for_precompressed_files():
    # Without it WhiteNoise's collectstatic writes gzip copies only.
    pins = (ROOT / "deploy" / "requirements.txt").read_text()
    assert re.search(r"^brotli==[0-9.]+ ", pins, re.MULTILINE)


def test_two_web_processes_started_on_an_empty_static_root_collect_it_and_serve(
    tmp_path, django_db_blocker
):
    """A platform that runs only the Procfile: no collectstatic step, DEBUG
    off, and two web processes sharing one STATIC_ROOT start at once."""
    root = tmp_path / "static"
    with django_db_blocker.unblock():
        servers = [AsgiServer(STATIC_ROOT=str(root)) for _ in range(2)]
    with ThreadPoolExecutor(2) as starting:
        list(starting.map(lambda server: server.start(), servers))
    try:
        for server in servers:
            page = httpx.get(f"{server.url}/accounts/login/", timeout=10)
            assert page.status_code == 200, server.log_path.read_text()[-2000:]
            found = HASHED_CSS.search(page.text)
            assert found
            css = httpx.get(f"{server.url}{found[1]}", timeout=10)
            assert css.status_code == 200
            assert css.text == (ROOT / "static" / "css" / "site.css").read_text()
        assert (root / STAMP).is_file()
        logs = "".join(server.log_path.read_text() for server in servers)
        # One collected, the other found the stamp (they took turns).
        assert logs.count("collected the static files into") == 1, logs[-3000:]
    finally:
        for server in servers:
            server.stop()
