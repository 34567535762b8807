"""The vault behind one interface: each test runs against a local folder and
against a bucket (moto's S3 server), through the same calls."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from django.http import Http404
from django.test import RequestFactory

from pmd_project.lib.vault import BucketVault, FolderVault, vault


@pytest.fixture(params=["folder", "bucket"])
def store(request):
    if request.param == "bucket":
        request.getfixturevalue("s3_vault")
    return vault()


def _name() -> str:
    return f"lib/{uuid.uuid4().hex}.bin"


def test_it_is_the_kind_the_settings_name(store, request):
    kind = request.node.callspec.params["store"]
    assert isinstance(store, BucketVault if kind == "bucket" else FolderVault)
    assert store.in_bucket is (kind == "bucket")


def test_it_reads_back_a_file_with_its_size(store):
    name = store.storage.save(_name(), ContentFile(b"pixels" * 100))
    handle, size = store.open_for_reading(name)
    with handle:
        assert handle.read() == b"pixels" * 100
    assert size == 600


def test_a_missing_file_is_not_found_to_read_or_answer(store):
    with pytest.raises(FileNotFoundError):
        store.open_for_reading(_name())
    with pytest.raises(Http404):
        store.file_response(RequestFactory().get("/x"), _name(), content_type="image/png")


def test_a_round_trip_leaves_nothing_behind(store):
    name = _name()
    store.round_trip(name, b"readiness")
    with pytest.raises(FileNotFoundError):
        store.open_for_reading(name)


def test_deleting_what_is_gone_is_quiet(store):
    name = store.storage.save(_name(), ContentFile(b"x"))
    store.delete(name)
    store.delete(name)
    with pytest.raises(FileNotFoundError):
        store.open_for_reading(name)


def test_a_file_is_answered_from_this_host_or_by_the_store(store):
    name = store.storage.save(_name(), ContentFile(b"x" * 10))
    response = store.file_response(RequestFactory().get("/x"), name, content_type="image/png")
    if store.in_bucket:
        assert response.status_code == 302
        assert response["Location"].startswith(store.image_origin())
    else:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"x" * 10
        assert store.image_origin() is None


def test_work_goes_beside_its_name_in_a_folder_and_to_scratch_for_a_bucket(store, settings):
    folder = store.work_folder("bdr/abc/1.zip")
    assert folder.is_dir()
    if store.in_bucket:
        assert folder == settings.PMD_SCRATCH_DIR
        assert store.local_folder("bdr") is None
    else:
        assert folder == store.path("bdr/abc")
        assert store.local_folder("bdr") == store.path("bdr")


def test_a_bucket_uploads_with_a_longer_wait_for_answers_than_requests_have(
    s3_vault, settings, tmp_path
):
    """Completing a multipart upload of gigabytes, a store answers only once
    it has put the parts together: seconds that a request's 3 s read timeout
    turned into a failed build (moto, 2.56 GB)."""
    from pmd_project.lib.s3 import upload_client

    store = vault()
    settings.PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS = 77
    client = upload_client(store.storage)
    assert client.meta.config.read_timeout == 77
    assert client.meta.config.connect_timeout == settings.PMD_VAULT_CONNECT_TIMEOUT_SECONDS
    assert store.client.meta.config.read_timeout == settings.PMD_VAULT_READ_TIMEOUT_SECONDS < 77
    # The same bucket, with the same credentials: what it uploads reads back.
    path = tmp_path / "upload.bin"
    path.write_bytes(b"\x00pixels" * 1000)
    name = _name()
    store.upload(path, name, content_type="application/zip", heartbeat=lambda: None)
    try:
        source, size = store.open_for_reading(name)
        with source:
            assert (source.read(), size) == (path.read_bytes(), 7000)
    finally:
        store.delete(name)
