"""deploy/nginx/pmd.conf in front of uvicorn, both real, as Debian runs them.

The site file is rendered with the envsubst command its header gives, included
by a minimal main configuration like Debian's /etc/nginx/nginx.conf (with
gzip on, also for event streams, so the SSE location must turn it off), and
run by Debian's nginx on loopback in front of the Procfile's `web` command.
nginx's workers run as www-data, never root: they read the vault, a folder
of group www-data with the setgid bit, through that group, as on a server.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pmd.downloads import build
from pmd.live import BDR_UPDATE, publish
from posts.public_ids import post_sqid
from testing.factories import PASSWORD, make_post, make_user
from testing.live import ROOT, AsgiServer, free_port, session_cookies
from testing.services import require_nginx, require_redis
from testing.sse import SseClient
from tests.deploy.test_units import procfile
from tests.pmd.bdr_helpers import make_bdr

SITE = ROOT / "deploy" / "nginx" / "pmd.conf"
PLACEHOLDERS = ("PMD_LISTEN", "PMD_SERVER_NAME", "PMD_UPSTREAM", "PMD_VAULT_ROOT", "PMD_BALANCER")
VAULT_LOCATION = "/_vault/"
# Debian's nginx workers: user and group www-data.
WORKER_USER = "www-data"
# Addresses on loopback, which has all of 127.0.0.0/8: the client's own (not
# nginx's 127.0.0.1), and the TLS-ending load balancer's in front of nginx.
CLIENT_ADDRESS = "127.0.0.2"
BALANCER_ADDRESS = "127.0.0.3"
SPOOFED_ADDRESS = "203.0.113.7"
LOGIN_LIMIT = 10  # failed log-ins per account (docs/operating.md, "Reliability and security")


def _header(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def render_site(values: dict[str, str]) -> str:
    """The site file rendered with the command its header gives, by the
    system's envsubst: exactly the placeholders are replaced, nginx's
    variables and the header itself stay as they are."""
    text = SITE.read_text()
    names = re.search(r"^#\s+names='([^']+)'$", text, re.MULTILINE)
    command = re.search(r"^#\s+(envsubst .*) < deploy/nginx/pmd\.conf > ", text, re.MULTILINE)
    assert names and command, "the site file's header shows the envsubst command"
    assert tuple(names[1].split()) == PLACEHOLDERS
    envsubst = shutil.which("envsubst")
    assert envsubst, "envsubst (gettext-base) renders the site file"
    rendered = subprocess.run(
        ["bash", "-c", f"names='{names[1]}'; {command[1]}"],
        input=text,
        env={"PATH": os.environ["PATH"], **values},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert _header(rendered) == _header(text), "envsubst left the header as it was"
    config = "\n".join(line for line in rendered.splitlines() if not line.lstrip().startswith("#"))
    assert "${" not in config, "every placeholder is documented"
    return rendered


def main_config(prefix: Path, site: Path) -> str:
    # nginx's master starts as root; its workers drop to www-data, as Debian's
    # /etc/nginx/nginx.conf has them.
    user = f"user {WORKER_USER} {WORKER_USER};" if os.geteuid() == 0 else ""
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
    nginx_pid: int


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
def reachable_folder() -> Iterator[Path]:
    """A folder nginx's workers can pass through (pytest's own are 0700 root)."""
    folder = Path(tempfile.mkdtemp(prefix="pmd-nginx-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def nginx_vault(reachable_folder) -> Path:
    """The vault as docs/operating.md sets it up: group www-data, setgid, so
    every file and folder PMD makes in it belongs to that group."""
    folder = reachable_folder / "vault"
    folder.mkdir()
    if os.geteuid() == 0:
        os.chown(folder, -1, grp.getgrnam(WORKER_USER).gr_gid)
    folder.chmod(0o2750)
    return folder


@pytest.fixture(autouse=True)
def vault(settings, nginx_vault):
    """This module's vault (instead of the run's): the production storage
    settings, file modes included, on nginx_vault."""
    production = settings.STORAGES["vault"]
    settings.PMD_VAULT_ROOT = nginx_vault
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {**production, "OPTIONS": {**production["OPTIONS"], "location": str(nginx_vault)}},
    }
    return nginx_vault


@contextlib.contextmanager
def running_site(blocker, prefix: Path, vault_root: Path, **web_env: str) -> Iterator[Site]:
    """The Procfile's web process behind nginx with the rendered site file."""
    nginx = require_nginx()
    require_redis()
    from testing.worker import TEST_QUEUE

    prefix.mkdir()
    with blocker.unblock():
        web = ProcfileWebServer(
            PMD_VAULT_ROOT=str(vault_root),
            CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE,
            PMD_X_ACCEL_REDIRECT_PREFIX=VAULT_LOCATION,
            FORWARDED_ALLOW_IPS="127.0.0.1",
            **web_env,
        ).start()
    port = free_port()
    config = render_site(
        {
            "PMD_LISTEN": f"127.0.0.1:{port}",
            "PMD_SERVER_NAME": "127.0.0.1 localhost",
            "PMD_UPSTREAM": f"127.0.0.1:{web.port}",
            "PMD_VAULT_ROOT": str(vault_root),
            "PMD_BALANCER": BALANCER_ADDRESS,
        }
    )
    (prefix / "pmd.conf").write_text(config)
    main = main_config(prefix, prefix / "pmd.conf")
    assert "user root" not in main
    (prefix / "nginx.conf").write_text(main)
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
        yield Site(url=f"http://127.0.0.1:{port}", web=web, config=config, nginx_pid=process.pid)
    finally:
        process.terminate()  # nginx: fast shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        web.stop()


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, reachable_folder, nginx_vault):
    with running_site(django_db_blocker, reachable_folder / "nginx", nginx_vault) as up:
        yield up


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

    def test_the_stylesheet_comes_brotli_compressed_and_the_web_process_logs_no_warning(self, site):
        page = httpx.get(f"{site.url}/accounts/login/", timeout=10)
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, page.text[:2000]
        css = httpx.get(f"{site.url}{stylesheet[1]}", headers={"Accept-Encoding": "br"}, timeout=10)
        assert css.status_code == 200
        assert css.headers["content-encoding"] == "br"
        assert css.text == (ROOT / "static" / "css" / "site.css").read_text()
        # WhiteNoise's file iterator made Django warn once per web process.
        assert "must consume synchronous iterators" not in site.web.log_since(0)

    def test_each_request_carries_nginx_s_own_request_id(self, site):
        forged = {"X-Request-ID": "chosen-by-the-client"}
        first = httpx.get(f"{site.url}/accounts/login/", headers=forged, timeout=10)
        second = httpx.get(f"{site.url}/accounts/login/", headers=forged, timeout=10)
        ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
        # nginx's $request_id: 32 hex digits, new for each request, whatever the client sent.
        assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids), ids
        assert ids[0] != ids[1]

    def test_the_home_page_answers_head(self, site):
        response = httpx.head(f"{site.url}/", timeout=10)
        assert response.status_code in (200, 302), response.status_code

    def test_nginx_workers_are_not_root(self, site):
        if os.geteuid() != 0:
            pytest.skip("nginx runs as this user: it cannot switch to www-data")
        workers = subprocess.run(
            ["pgrep", "-P", str(site.nginx_pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        assert workers
        for pid in workers:
            uid = re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)
            assert uid and int(uid[1]) == pwd.getpwnam(WORKER_USER).pw_uid


class TestHealth:
    def test_health_answers_plain_http_from_this_host(self, site):
        response = httpx.get(f"{site.url}/health/live", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    def test_health_is_refused_to_other_clients(self, site, client_from_elsewhere):
        assert client_from_elsewhere.get("/health/live").status_code == 403
        assert client_from_elsewhere.get("/health/ready").status_code == 403
        assert client_from_elsewhere.get("/accounts/login/").status_code == 200

    def test_the_balancer_may_probe_but_clients_behind_it_may_not(self, site):
        transport = httpx.HTTPTransport(local_address=BALANCER_ADDRESS)
        with httpx.Client(base_url=site.url, transport=transport, timeout=10) as balancer:
            assert balancer.get("/health/live").status_code == 200
            forwarded = {"X-Forwarded-For": CLIENT_ADDRESS}
            assert balancer.get("/health/live", headers=forwarded).status_code == 403

    def test_metrics_are_refused_to_other_clients(self, site, client_from_elsewhere):
        assert client_from_elsewhere.get("/metrics").status_code == 403
        # From this host nginx lets it through; the app, with no token set, has no metrics.
        assert httpx.get(f"{site.url}/metrics", timeout=10).status_code == 404

    def test_a_flood_of_probes_from_one_address_is_limited(self, site):
        with httpx.Client(base_url=site.url, timeout=10) as client:
            statuses = [client.get("/health/live").status_code for _ in range(60)]
            assert statuses[0] == 200
            assert 429 in statuses
            # The limit drains (5 a second): probes are answered again within
            # seconds, and the next test of this site starts with a full burst.
            deadline = time.monotonic() + 15
            while client.get("/health/live").status_code == 429:
                assert time.monotonic() < deadline, "the probe limit never drained"
                time.sleep(0.5)
            time.sleep(4)


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

    def test_nginx_sends_an_artwork(self, site, vault):
        owner = make_user("art-nginx")
        post = make_post(owner)
        data = (vault / post.art.name).read_bytes()
        with httpx.Client(cookies=session_cookies(owner), timeout=10) as client:
            response = client.get(f"{site.url}/art/{post_sqid(post.pk)}")
        assert response.status_code == 200, response.text[:300]
        assert response.content == data
        assert "x-accel-redirect" not in response.headers

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


@pytest.mark.usefixtures("transactional_db")
class TestBehindATlsEndingBalancer:
    """The app redirects plain HTTP to HTTPS (SECURE_SSL_REDIRECT, on in
    production). Behind a balancer that ends TLS, nginx sees plain HTTP: it
    must pass on the balancer's X-Forwarded-Proto, or every request is
    redirected to HTTPS again, for ever; and only the balancer's."""

    @pytest.fixture(scope="class")
    def secure_site(self, django_db_setup, django_db_blocker, reachable_folder, nginx_vault):
        with running_site(
            django_db_blocker,
            reachable_folder / "nginx-secure",
            nginx_vault,
            SECURE_SSL_REDIRECT="1",
        ) as up:
            yield up

    def test_https_at_the_balancer_is_not_redirected(self, secure_site):
        transport = httpx.HTTPTransport(local_address=BALANCER_ADDRESS)
        with httpx.Client(base_url=secure_site.url, transport=transport, timeout=10) as balancer:
            response = balancer.get(
                "/accounts/login/",
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_ADDRESS},
            )
            plain = balancer.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
        assert response.status_code == 200, response.headers
        assert plain.status_code == 301
        assert plain.headers["location"].startswith("https://")

    def test_nobody_else_can_claim_https(self, secure_site):
        transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
        with httpx.Client(base_url=secure_site.url, transport=transport, timeout=10) as client:
            response = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
        assert response.status_code == 301
        assert response.headers["location"].startswith("https://")
