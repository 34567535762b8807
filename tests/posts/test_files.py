from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import RequestFactory

from pmd_project.lib.files import stream_file_response

DATA = bytes(range(256)) * 4000  # 1,024,000 bytes


def _get(headers=None, name="files/blob.bin"):
    request = RequestFactory().get("/x", headers=headers or {})
    return stream_file_response(
        request,
        storages["vault"],
        name,
        content_type="application/zip",
        attachment_name="pixel art ✨.zip",
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


class TestStorageFileResponse:
    def setup_method(self):
        self.name = None

    def _store(self):
        return storages["vault"].save("files/blob.bin", ContentFile(DATA))

    def test_it_sends_the_whole_file_with_its_length_and_name(self):
        name = self._store()
        response = _get(name=name)
        assert response.status_code == 200
        assert response["Content-Length"] == str(len(DATA))
        assert response["Accept-Ranges"] == "bytes"
        assert "attachment" in response["Content-Disposition"]
        assert "filename*=utf-8''pixel%20art%20%E2%9C%A8.zip" in response["Content-Disposition"]
        assert _body(response) == DATA

    def test_it_resumes_from_a_byte_range(self):
        name = self._store()
        response = _get({"Range": "bytes=1000-"}, name=name)
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 1000-{len(DATA) - 1}/{len(DATA)}"
        assert _body(response) == DATA[1000:]
        response = _get({"Range": "bytes=10-19"}, name=name)
        assert _body(response) == DATA[10:20]
        response = _get({"Range": "bytes=-5"}, name=name)
        assert _body(response) == DATA[-5:]

    def test_it_refuses_a_range_beyond_the_end(self):
        name = self._store()
        response = _get({"Range": f"bytes={len(DATA)}-"}, name=name)
        assert response.status_code == 416
        assert response["Content-Range"] == f"bytes */{len(DATA)}"

    def test_it_ignores_a_malformed_range(self):
        name = self._store()
        response = _get({"Range": "bytes=abc"}, name=name)
        assert response.status_code == 200
        assert _body(response) == DATA

    def test_it_sends_everything_when_if_range_does_not_match(self):
        name = self._store()
        response = _get({"Range": "bytes=5-", "If-Range": '"stale"'}, name=name)
        assert response.status_code == 200

    def test_it_hands_the_file_to_nginx_when_configured(self, settings):
        settings.PMD_X_ACCEL_REDIRECT_PREFIX = "/_vault/"
        name = self._store()
        response = _get(name=name)
        assert response["X-Accel-Redirect"] == f"/_vault/{name}"
        assert response.content == b""
