"""A real S3 protocol endpoint on loopback for tests: moto's standalone server.

Loaded as a pytest plugin (tests/conftest.py). The session starts
`python -m moto.server` on a free port the first time a test asks for
`s3_endpoint`, with one bucket for the run; `s3_vault` switches the `vault`
storage of one test (and of the servers and workers it starts, through
`s3_vault.env`) to that bucket, under a prefix of its own. The application
never imports moto: it talks S3 to the endpoint as it would to any store.
Under CI=true a missing moto fails (testing/services.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from testing.live import ServerProcess, free_port
from testing.services import missing

ACCESS_KEY, SECRET_KEY, REGION = "pmd-test-key", "pmd-test-secret", "us-east-1"


class MotoServer(ServerProcess):
    """`python -m moto.server` on 127.0.0.1:`port`; stop() and start() again
    to play a store that is down (moto keeps its data only while it runs)."""

    name = "moto"

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"moto-{self.port}.log"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def start(self) -> MotoServer:
        return self.start_process(probe="/moto-api/")


class SlowLink:
    """A TCP relay to `port` on loopback that passes on what clients send at
    about `rate` bytes a second (answers come back at full speed): uploads
    through it take seconds, so a test can act while one is in flight."""

    CHUNK = 64 * 1024

    def __init__(self, port: int, *, rate: int) -> None:
        self.upstream = port
        self.rate = rate
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                store = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                return  # closed
            self._sockets += [client, store]
            threading.Thread(target=self._pass, args=(client, store, True), daemon=True).start()
            threading.Thread(target=self._pass, args=(store, client, False), daemon=True).start()

    def _pass(self, source: socket.socket, target: socket.socket, slow: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(self.CHUNK):
                target.sendall(chunk)
                if slow:
                    time.sleep(len(chunk) / self.rate)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class S3Endpoint:
    server: MotoServer
    bucket: str

    @property
    def url(self) -> str:
        return self.server.url

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


@dataclass
class S3Vault:
    endpoint: S3Endpoint
    prefix: str
    scratch: Path
    env: dict[str, str] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def keys(self, under: str = "") -> list[str]:
        """Names (relative to the vault) of the objects under `under`."""
        answer = self.endpoint.client().list_objects_v2(
            Bucket=self.endpoint.bucket, Prefix=self.key(under)
        )
        return sorted(item["Key"][len(self.prefix) + 1 :] for item in answer.get("Contents", []))

    def read(self, name: str) -> bytes:
        answer = self.endpoint.client().get_object(Bucket=self.endpoint.bucket, Key=self.key(name))
        return answer["Body"].read()


def vault_storage_config(endpoint: S3Endpoint, prefix: str, *, bucket: str | None = None) -> dict:
    """What settings.STORAGES["vault"] is with PMD_VAULT_URL=s3://bucket/prefix."""
    from django.conf import settings

    from pmd_project.settings import s3_vault_storage

    return s3_vault_storage(
        f"s3://{bucket or endpoint.bucket}/{prefix}",
        endpoint_url=endpoint.url,
        region_name=REGION,
        addressing_style="",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        expire_seconds=settings.PMD_VAULT_URL_EXPIRE_SECONDS,
        connect_timeout=settings.PMD_VAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.PMD_VAULT_READ_TIMEOUT_SECONDS,
    )


def require_moto() -> None:
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        missing("moto's S3 server", "pip install 'moto[server]' (requirements.txt)")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    require_moto()
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    endpoint = S3Endpoint(server=server, bucket=f"pmd-test-{uuid.uuid4().hex[:12]}")
    endpoint.client().create_bucket(Bucket=endpoint.bucket)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_vault(vault, settings, s3_endpoint, tmp_path):
    """The `vault` storage of this test is the run's bucket, under a prefix
    of its own; `s3_vault.env` gives a server or worker the same."""
    prefix = f"t-{uuid.uuid4().hex[:10]}"
    scratch = tmp_path / "scratch"
    settings.STORAGES = {**settings.STORAGES, "vault": vault_storage_config(s3_endpoint, prefix)}
    settings.PMD_VAULT_URL = f"s3://{s3_endpoint.bucket}/{prefix}"
    settings.PMD_SCRATCH_DIR = scratch
    env = {
        "PMD_VAULT_URL": settings.PMD_VAULT_URL,
        "AWS_S3_ENDPOINT_URL": s3_endpoint.url,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "PMD_SCRATCH_DIR": str(scratch),
    }
    return S3Vault(endpoint=s3_endpoint, prefix=prefix, scratch=scratch, env=env)
