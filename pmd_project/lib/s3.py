"""The S3 clients of a bucket vault (pmd_project.lib.vault.BucketVault): one
per store for the whole process, the one that signs the URLs browsers are sent
to, the one the worker uploads with (all from one session per store), the
store's address as browsers reach it, and what a failure was, in words.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)


def object_key(storage: Any, name: str) -> str:
    """The bucket key of vault name `name` (under the prefix of PMD_VAULT_URL)."""
    from storages.utils import clean_name, safe_join

    return safe_join(storage.location, clean_name(name))


def store_problem(error: BaseException) -> str:
    """What went wrong talking to the store, for a log line or staff: a few
    words and the store's error code, never a URL or a key."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        CredentialRetrievalError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return "no credentials for the object store could be found"
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return "the object store did not answer in time"
    if isinstance(error, EndpointConnectionError):
        return "the object store could not be reached"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "?")
        return f"the object store refused the request ({code})"
    return f"the object store failed ({type(error).__name__})"


_clients: dict[tuple, Any] = {}
_origins: dict[tuple, str | None] = {}
_clients_lock = threading.Lock()


def _store_key(storage: Any) -> tuple:
    return (
        storage.bucket_name,
        storage.endpoint_url,
        storage.region_name,
        storage.access_key,
        settings.PMD_VAULT_PUBLIC_URL,
    )


def store_client(storage: Any) -> Any:
    """One boto3 S3 client per store for the whole process. django-storages
    makes one per thread, and under ASGI every request runs on a thread of
    its own: a client per request costs milliseconds and megabytes. boto3's
    clients are thread-safe (its resources are not)."""
    return _cached_client(
        _store_key(storage), lambda: _new_client(storage, endpoint_url=storage.endpoint_url)
    )


def _cached_client(key: tuple, make: Callable[[], Any]) -> Any:
    """The process's client under `key`, made by `make()` the first time."""
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make()
    return client


def _new_client(
    storage: Any, *, endpoint_url: str | None, unsigned: bool = False, config: Any = None
) -> Any:
    """A client of `storage`'s bucket at `endpoint_url`, configured as
    django-storages configures its own (timeouts and retries included),
    with `config`'s settings over them. Call holding _clients_lock."""
    import boto3

    config = storage.client_config if config is None else storage.client_config.merge(config)
    if unsigned:
        from botocore import UNSIGNED
        from botocore.config import Config

        config = config.merge(Config(signature_version=UNSIGNED))
    # One session per store: the clients of a session share the S3 model it
    # loads (about 13 MB), which a session of each client would load again.
    # A session is not thread-safe; the lock held here serializes its use.
    session_key = ("session", *_store_key(storage))
    session = _clients.get(session_key)
    if session is None:
        session = _clients[session_key] = boto3.Session(
            aws_access_key_id=storage.access_key,
            aws_secret_access_key=storage.secret_key,
            aws_session_token=storage.security_token,
        )
    return session.client(
        "s3",
        region_name=storage.region_name,
        endpoint_url=endpoint_url or None,
        use_ssl=storage.use_ssl,
        verify=storage.verify,
        config=config,
    )


def upload_client(storage: Any) -> Any:
    """The client the worker uploads ZIPs with: the store's, waiting
    PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS for an answer instead of the few
    seconds a request may wait, since a store completing a multipart upload
    of gigabytes answers only once the parts are put together."""
    from botocore.config import Config

    timeout = settings.PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS
    return _cached_client(
        ("upload", timeout, *_store_key(storage)),
        lambda: _new_client(
            storage, endpoint_url=storage.endpoint_url, config=Config(read_timeout=timeout)
        ),
    )


def presign_client(storage: Any) -> Any:
    """The client that signs the URLs browsers are sent to: for the store's
    address as browsers reach it (PMD_VAULT_PUBLIC_URL: a public endpoint,
    where the processes use a private one), else the store's own. Signing
    is local: nothing is sent to that address."""
    public = settings.PMD_VAULT_PUBLIC_URL
    if not public:
        return store_client(storage)
    return _cached_client(
        ("presign", *_store_key(storage)), lambda: _new_client(storage, endpoint_url=public)
    )


def store_origin(storage: Any) -> str | None:
    """Where the presigned URLs send the browser (scheme://host[:port]), in
    whichever addressing style boto3 uses for the bucket there. Worked out
    once per process from the settings alone, by an unsigned client: it needs
    no credentials and sends nothing, so a store whose credentials cannot be
    found leaves every page as it is. None (logged) when it cannot be."""
    key = _store_key(storage)
    with _clients_lock:
        if key in _origins:
            return _origins[key]
        try:
            client = _new_client(
                storage,
                endpoint_url=settings.PMD_VAULT_PUBLIC_URL or storage.endpoint_url,
                unsigned=True,
            )
            example = client.generate_presigned_url(
                "get_object",
                Params={"Bucket": storage.bucket_name, "Key": object_key(storage, "x")},
            )
        except Exception:  # noqa: BLE001 - a page must not fail for its image source
            logger.exception("cannot work out the object store's address for the CSP")
            origin = None
        else:
            parts = urlsplit(example)
            origin = f"{parts.scheme}://{parts.netloc}"
        _origins[key] = origin
    return origin
