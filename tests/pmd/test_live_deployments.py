"""Two deployments on one Redis server, each with its own database: Redis
pub/sub ignores database numbers, and each deployment hears its own
live-status events and never the other's, with the channel prefix each
derives by default (settings.deployment_channel_prefix)."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings

from pmd.live import BDR_UPDATE
from testing.live import ROOT, AsgiServer, process_env, session_cookies
from testing.services import require_redis
from testing.sse import SseClient

# A deployment's other process, as a worker publishes: optionally sets up a
# fresh database with a user of the given id and a session for them, prints
# its prefix (and the session), then publishes one event per line it reads.
PUBLISHER = r"""
import json, sys
import django
django.setup()
from django.conf import settings
from pmd.live import BDR_UPDATE, publish
user_id, session = int(sys.argv[1]), None
if sys.argv[2] == "setup":
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(id=user_id, username="b", password=None)
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
print(json.dumps({"prefix": settings.PMD_EVENT_CHANNEL_PREFIX, "session": session}), flush=True)
for line in sys.stdin:
    publish(user_id, BDR_UPDATE, json.loads(line))
    print("sent", flush=True)
"""


def _own_prefix(env: dict[str, str]) -> dict[str, str]:
    """`env` with no event-channel prefix: the deployment derives its own."""
    env.pop("PMD_EVENT_CHANNEL_PREFIX", None)
    return env


class Publisher:
    def __init__(self, user_id: int, *, setup: bool, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(user_id), "setup" if setup else "-"],
            cwd=ROOT,
            env=_own_prefix(process_env(DJANGO_SETTINGS_MODULE="pmd_project.settings", **env)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._hello: dict | None = None

    def hello(self) -> dict:
        """Its prefix and session, once it has started."""
        if self._hello is None:
            line = self.process.stdout.readline()
            assert line, f"the publisher exited ({self.process.wait(timeout=10)})"
            self._hello = json.loads(line)
        return self._hello

    def send(self, data: dict) -> None:
        self.process.stdin.write(json.dumps(data) + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline() == "sent\n"

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def _web(**env: str) -> AsgiServer:
    server = AsgiServer(**env)
    _own_prefix(server.env)
    return server.start()


@pytest.mark.django_db(transaction=True)
def test_two_deployments_on_one_redis_never_hear_each_others_events(owner, session_vault, tmp_path):
    require_redis()
    other_database = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    vault = {"PMD_VAULT_ROOT": str(session_vault)}
    # Deployment B's database is set up while A's web server starts.
    publisher_b = Publisher(owner.pk, setup=True, DATABASE_URL=other_database)
    publisher_a = Publisher(owner.pk, setup=False)
    servers, streams = [], []
    try:
        servers.append(web_a := _web(**vault))
        b = publisher_b.hello()
        servers.append(web_b := _web(DATABASE_URL=other_database, **vault))
        a = publisher_a.hello()
        # One user id in each deployment, both with a live page open.
        streams.append(stream_a := _stream(web_a, session_cookies(owner)))
        streams.append(stream_b := _stream(web_b, {settings.SESSION_COOKIE_NAME: b["session"]}))

        publisher_b.send({"from": "b", "n": 1})
        publisher_a.send({"from": "a", "n": 1})
        publisher_b.send({"from": "b", "n": 2})

        # Redis delivers in publishing order: an event of the other
        # deployment would arrive before the next one of a stream's own.
        first_a = stream_a.next_event(event=BDR_UPDATE)
        assert first_a.json() == {"from": "a", "n": 1}
        assert stream_b.next_event(event=BDR_UPDATE).json() == {"from": "b", "n": 1}
        assert stream_b.next_event(event=BDR_UPDATE).json() == {"from": "b", "n": 2}
    finally:
        for stream in streams:
            stream.close()
        for server in servers:
            server.stop()
        publisher_a.stop()
        publisher_b.stop()
    # Each deployment's web and worker-like processes agree on its prefix.
    assert a["prefix"] != b["prefix"]
    assert first_a.id.startswith(quote(f"{a['prefix']}user-{owner.pk}"))


def _stream(server: AsgiServer, cookies: dict[str, str]) -> SseClient:
    return SseClient(f"{server.url}/api/pmd/bdr/sse", cookies=cookies).start()
