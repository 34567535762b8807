from __future__ import annotations

import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PRIVATE_PORT = 6390


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


class Command(BaseCommand):
    help = (
        "Print a Redis URL that answers: REDIS_URL if it does, else a private "
        "redis-server started on loopback (used by `make run`)."
    )

    def handle(self, *args, **options) -> None:
        url = settings.REDIS_URL
        if _answers(url):
            self.stdout.write(url)
            return
        server = shutil.which("redis-server")
        if server is None:
            raise CommandError(
                f"Redis does not answer at {url} and redis-server is not installed: "
                "install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: "
                "brew install redis) or set REDIS_URL to a running Redis."
            )
        private_url = f"redis://127.0.0.1:{PRIVATE_PORT}/0"
        if not _answers(private_url):
            folder = settings.VAR_DIR / "redis"
            folder.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    server,
                    "--daemonize",
                    "yes",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(PRIVATE_PORT),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(folder),
                    "--logfile",
                    str(folder / "redis.log"),
                    "--pidfile",
                    str(folder / "redis.pid"),
                ],
                check=True,
            )
            for _ in range(50):
                if _answers(private_url):
                    break
                time.sleep(0.1)
            else:
                raise CommandError(
                    f"Started redis-server on port {PRIVATE_PORT} but it does not answer"
                )
            host = urlparse(url).netloc or url
            print(
                f"Redis did not answer at {host}; started a private one at {private_url}",
                file=sys.stderr,
            )
        self.stdout.write(private_url)
