"""deploy/nginx/pmd.conf in front of uvicorn, both real (issue 12 item 5).

The site file is rendered as its header tells an operator to (envsubst with
the four PMD_* placeholders), included by a minimal main configuration like
Debian's /etc/nginx/nginx.conf (with gzip on, also for event streams, so the
SSE location must turn it off), and run by Debian's nginx on loopback in front
of the Procfile's `web` command.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pmd.downloads import build
from pmd.live import BDR_UPDATE, publish
from tests.deploy.test_units import procfile
from tests.factories import PASSWORD, make_post, make_user
from tests.live import ROOT, AsgiServer, free_port, session_cookies
from tests.pmd.bdr_helpers import make_bdr
from tests.services import require_nginx, require_redis
from tests.sse import SseClient

SITE = ROOT / "deploy" / "nginx" / "pmd.conf"
PLACEHOLDERS = ("PMD_LISTEN", "PMD_SERVER_NAME", "PMD_UPSTREAM", "PMD_VAULT_ROOT")
VAULT_LOCATION = "/_vault/"
# The client's own address: loopback has all of 127.0.0.0/8, so the client
# connects from one nginx (on 127.0.0.1) is not.
CLIENT_ADDRESS = "127.0.0.2"
SPOOFED_ADDRESS = "203.0.113.7"
LOGIN_LIMIT = 10  # failed log-ins per account (docs/operating.md, "Reliability and security")


def render_site(values: dict[str, str]) -> str:
    """What `envsubst '${PMD_LISTEN} ${PMD_SERVER_NAME} …'` does: replace
    exactly the documented placeholders and leave nginx's variables alone."""
    text = SITE.read_text()
    documented = re.search(r"envsubst '([^']+)'", text)
    assert documented, "the site file shows the envsubst command"
    assert documented[1].split() == [f"${{{name}}}" for name in PLACEHOLDERS]
    for name in PLACEHOLDERS:
        text = text.replace(f"${{{name}}}", values[name])
    config = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "${" not in config, "every placeholder is documented"
    return text


def main_config(prefix: Path, site: Path) -> str:
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the vault
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
{user}
worker_processes 1;
error_log {prefix / "error.log"} info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {prefix / "access.log"};
{temp}
    gzip on;
    gzip_types text/css application/javascript application/json text/event-stream;
    include {site};
}}
"""


class ProcfileWebServer(AsgiServer):
    """The Procfile's `web` line, run by a shell with HOST and PORT as honcho
    or a platform runs it: bare `uvicorn` from PATH, access log on."""

    def __init__(self, **env: str) -> None:
        super().__init__(**env)
        venv_bin = str(Path(sys.executable).parent)
        self.env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            PATH=f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        )

    def command(self) -> list[str]:
        return ["/bin/sh", "-c", f"exec {procfile()['web']}"]

    def log_since(self, offset: int) -> str:
        return self.log_path.read_text(errors="replace")[offset:]

    def log_size(self) -> int:
        return len(self.log_path.read_text(errors="replace"))


@dataclass
class Site:
    url: str
    web: ProcfileWebServer
    config: str


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not listen within 15 s")


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, session_vault, tmp_path_factory):
    nginx = require_nginx()
    require_redis()
    from tests.worker import TEST_QUEUE

    with django_db_blocker.unblock():
        web = ProcfileWebServer(
            PMD_VAULT_ROOT=str(session_vault),
            CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE,
            PMD_X_ACCEL_REDIRECT_PREFIX=VAULT_LOCATION,
            FORWARDED_ALLOW_IPS="127.0.0.1",
        ).start()
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    config = render_site(
        {
            "PMD_LISTEN": f"127.0.0.1:{port}",
            "PMD_SERVER_NAME": "127.0.0.1 localhost",
            "PMD_UPSTREAM": f"127.0.0.1:{web.port}",
            "PMD_VAULT_ROOT": str(session_vault),
        }
    )
    (prefix / "pmd.conf").write_text(config)
    (prefix / "nginx.conf").write_text(main_config(prefix, prefix / "pmd.conf"))
    command = [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    directives = f"daemon off; pid {prefix / 'nginx.pid'};"
    checked = subprocess.run(
        [*command, "-t", "-g", directives], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    log = prefix / "nginx.out"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "-g", directives], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(port, process, log)
        yield Site(url=f"http://127.0.0.1:{port}", web=web, config=config)
    finally:
        process.terminate()  # nginx: fast shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        web.stop()


@pytest.fixture
def client_from_elsewhere(site):
    """An HTTP client connecting from CLIENT_ADDRESS, not from nginx's own."""
    transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
    with httpx.Client(base_url=site.url, transport=transport, timeout=10) as client:
        yield client


class TestPagesAndStaticFiles:
    def test_a_page_and_its_hashed_stylesheet_load_through_nginx(self, site):
        page = httpx.get(f"{site.url}/accounts/login/", timeout=10)
        assert page.status_code == 200
        assert "<form" in page.text
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, page.text[:2000]
        css = httpx.get(f"{site.url}{stylesheet[1]}", timeout=10)
        assert css.status_code == 200
        assert css.text == (ROOT / "static" / "css" / "site.css").read_text()
        assert "max-age=315360000" in css.headers["cache-control"]
        assert "server" not in css.headers or "nginx/" not in css.headers["server"]

    def test_health_answers_plain_http_through_nginx(self, site):
        response = httpx.get(f"{site.url}/health/live", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


@pytest.mark.usefixtures("transactional_db")
class TestLiveStatus:
    def test_an_event_arrives_unbuffered_and_uncompressed(self, site):
        owner = make_user("sse-nginx")

        class BrowserLikeSseClient(SseClient):
            # Browsers accept gzip; the main config would compress event
            # streams if the SSE location did not turn it off.
            def _request(self) -> bytes:
                request = super()._request()
                return request.replace(b"\r\n\r\n", b"\r\nAccept-Encoding: gzip\r\n\r\n", 1)

        stream = BrowserLikeSseClient(
            f"{site.url}/api/pmd/bdr/sse", cookies=session_cookies(owner)
        ).start()
        try:
            assert stream.status == 200
            assert "content-encoding" not in stream.headers
            assert stream.headers["content-type"].startswith("text/event-stream")
            sent = time.monotonic()
            publish(owner.pk, BDR_UPDATE, {"id": "nginx", "status": "ready"})
            event = stream.next_event(timeout=5, event=BDR_UPDATE)
            assert event.json() == {"id": "nginx", "status": "ready"}
            assert event.received_at - sent < 1.0
        finally:
            stream.close()

    def test_idle_streams_outlive_the_keep_alive_interval(self, site):
        location = re.search(r"location /api/pmd/bdr/sse \{(.*?)\}", site.config, re.DOTALL)
        assert location, "the site file has an SSE location"
        block = location[1]
        assert re.search(r"^\s*proxy_buffering off;", block, re.MULTILINE)
        assert re.search(r"^\s*gzip off;", block, re.MULTILINE)
        timeout = re.search(r"^\s*proxy_read_timeout (\d+)(s|m|h)?;", block, re.MULTILINE)
        assert timeout, "the SSE location sets proxy_read_timeout"
        seconds = int(timeout[1]) * {"s": 1, None: 1, "m": 60, "h": 3600}[timeout[2]]
        assert seconds > 20  # the app sends a keep-alive every 20 s


@pytest.mark.usefixtures("transactional_db")
class TestDownloads:
    def _ready_download(self):
        owner = make_user("zip-nginx")
        bdr = make_bdr(owner, [make_post(owner), make_post(owner)])
        assert build.download_request_build(bdr.pk) == "ready"
        bdr.refresh_from_db()
        return owner, bdr

    def test_nginx_sends_the_file_with_range(self, site, vault):
        owner, bdr = self._ready_download()
        data = (vault / bdr.file_path).read_bytes()
        url = f"{site.url}/api/pmd/bdr/{bdr.pk}/download"
        cookies = session_cookies(owner)
        start, end = len(data) // 3, len(data) // 2
        with httpx.Client(cookies=cookies, timeout=10) as client:
            whole = client.get(url)
            part = client.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert whole.status_code == 200
        assert whole.content == data
        assert whole.headers["content-type"] == "application/zip"
        assert whole.headers["content-disposition"].startswith('attachment; filename="')
        assert whole.headers.get("accept-ranges") == "bytes"
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
        assert part.content == data[start : end + 1]
        for response in (whole, part):
            assert "x-accel-redirect" not in response.headers
            assert VAULT_LOCATION not in str(response.headers)

    def test_the_vault_location_is_not_reachable_from_outside(self, site):
        owner, bdr = self._ready_download()
        direct = httpx.get(f"{site.url}{VAULT_LOCATION}{bdr.file_path}", timeout=10)
        assert direct.status_code == 404
        stranger = make_user("stranger-nginx")
        refused = httpx.get(
            f"{site.url}/api/pmd/bdr/{bdr.pk}/download",
            cookies=session_cookies(stranger),
            timeout=10,
        )
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/json"


@pytest.mark.usefixtures("transactional_db")
class TestClientAddress:
    def test_the_login_limit_sees_the_client_and_ignores_a_forged_address(
        self, site, client_from_elsewhere
    ):
        make_user("erin-nginx")
        client = client_from_elsewhere
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:2000]
        log_offset = site.web.log_size()

        def log_in(password: str, **headers: str) -> httpx.Response:
            return client.post(
                "/accounts/login/",
                data={
                    "username": "erin-nginx",
                    "password": password,
                    "csrfmiddlewaretoken": token[1],
                },
                headers=headers,
            )

        for attempt in range(1, LOGIN_LIMIT + 1):
            response = log_in("wrong-password")
            # The attempt that reaches the limit may itself be refused.
            expected = {200} if attempt < LOGIN_LIMIT else {200, 429}
            assert response.status_code in expected, (attempt, response.status_code)
        # The right password, from an address the client claims: still refused.
        forged = log_in(PASSWORD, **{"X-Forwarded-For": SPOOFED_ADDRESS})
        assert forged.status_code == 429
        assert "sessionid" not in client.cookies

        # uvicorn logged the address the app saw: the client's own, neither
        # nginx's (127.0.0.1) nor the forged one.
        posts = [
            line
            for line in site.web.log_since(log_offset).splitlines()
            if '"POST /accounts/login/' in line
        ]
        assert len(posts) == LOGIN_LIMIT + 1, posts
        assert all(f" {CLIENT_ADDRESS}:" in line for line in posts), posts
