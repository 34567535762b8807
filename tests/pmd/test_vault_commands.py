"""The vault's management commands against moto's S3 server (testing/objectstore.py):
`vault_lifecycle` and `vault_to_bucket`."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post
from testing.objectstore import vault_storage_config

pytestmark = pytest.mark.django_db


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class TestVaultLifecycle:
    def test_it_sets_two_rules_on_the_prefix_keeps_others_and_can_run_again(
        self, s3_vault, settings
    ):
        store, bucket = s3_vault.endpoint.client(), s3_vault.endpoint.bucket
        foreign = {
            "ID": "logs-expire",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "Expiration": {"Days": 30},
        }
        store.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [foreign]}
        )
        unfinished = f"pmd-unfinished-uploads:{s3_vault.prefix}/"
        zips = f"pmd-old-zips:{s3_vault.prefix}/bdr/"

        def rules() -> dict[str, dict]:
            answer = store.get_bucket_lifecycle_configuration(Bucket=bucket)
            return {rule["ID"]: rule for rule in answer["Rules"]}

        assert "Would set" in _command("vault_lifecycle", "--dry-run")
        assert set(rules()) == {"logs-expire"}

        output = _command("vault_lifecycle")

        first = rules()
        assert set(first) == {"logs-expire", unfinished, zips}
        assert first[unfinished]["Filter"] == {"Prefix": f"{s3_vault.prefix}/"}
        assert first[unfinished]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
        assert first[zips]["Filter"] == {"Prefix": f"{s3_vault.prefix}/bdr/"}
        assert first[zips]["Expiration"] == {"Days": settings.PMD_BDR_TTL_DAYS + 2}
        assert first["logs-expire"]["Filter"] == foreign["Filter"]
        assert "kept 1 other rule." in output

        # Again, after the lifetime changed: the same rules, updated, none added.
        settings.PMD_BDR_TTL_DAYS = 3
        _command("vault_lifecycle")
        again = rules()
        assert set(again) == set(first)
        assert again[zips]["Expiration"] == {"Days": 5}

    def test_a_local_vault_has_no_rules_to_set(self):
        with pytest.raises(CommandError, match="The vault is a local folder"):
            _command("vault_lifecycle")


class TestVaultToBucket:
    def test_it_copies_what_is_missing_once_and_the_rows_find_their_files(
        self, s3_vault, tmp_path, owner, owner_client
    ):
        post = make_post(owner, write_file=False)
        now = timezone.now()
        ready = BatchDownloadRequest.objects.create(
            user=owner, post_ids=[post.pk], artwork_count=1, status="ready",
            file_path=f"bdr/{user_sqid(owner.pk)}/old.zip", file_size_bytes=22,
            completed_at=now, expires_at=now + timedelta(days=7),
        )  # fmt: skip
        # The vault folder as a deployment on local disk left it.
        old = tmp_path / "old-vault"
        files = {
            post.art.name: b"\x89PNG\r\n\x1a\n" + os.urandom(2000),
            "art/test/other.gif": b"GIF89a" + os.urandom(500),
            ready.file_path: b"PK\x05\x06" + b"\0" * 18,
        }
        for name, body in files.items():
            (old / name).parent.mkdir(parents=True, exist_ok=True)
            (old / name).write_bytes(body)
        (old / "bdr" / user_sqid(owner.pk) / ".build.zip.tmp").write_bytes(b"PK")
        # An earlier run stopped part-way: one file is in the bucket already.
        s3_vault.endpoint.client().put_object(
            Bucket=s3_vault.endpoint.bucket,
            Key=s3_vault.key("art/test/other.gif"),
            Body=files["art/test/other.gif"],
        )

        dry = _command("vault_to_bucket", "--from", str(old), "--dry-run")
        assert "2 of 3 files to copy" in dry
        assert s3_vault.keys() == ["art/test/other.gif"]

        output = _command("vault_to_bucket", "--from", str(old))

        assert "Copied 2 files" in output and "1 were in the bucket already" in output
        assert s3_vault.keys() == sorted(files)
        for name, body in files.items():
            assert s3_vault.read(name) == body
        again = _command("vault_to_bucket", "--from", str(old))
        assert "Copied 0 files" in again and "3 were in the bucket already" in again
        # The rows name the same files, now answered from the bucket.
        for url, name in (
            (post.art_url, post.art.name),
            (f"/api/pmd/bdr/{ready.pk}/download", ready.file_path),
        ):
            response = owner_client.get(url)
            assert response.status_code == 302, url
            assert httpx.get(response["Location"]).content == files[name]

    def test_it_needs_a_bucket_and_a_folder(self, s3_vault, s3_endpoint, tmp_path, settings):
        with pytest.raises(CommandError, match="is not a folder"):
            _command("vault_to_bucket", "--from", str(tmp_path / "nowhere"))
        settings.STORAGES = {
            **settings.STORAGES,
            "vault": vault_storage_config(s3_endpoint, "x", bucket="pmd-test-no-such-bucket"),
        }
        refused = (
            r"Could not list the bucket: the object store refused the request \(NoSuchBucket\)"
        )
        with pytest.raises(CommandError, match=refused):
            _command("vault_to_bucket", "--from", str(tmp_path))
        settings.STORAGES = {
            **settings.STORAGES,
            "vault": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        }
        with pytest.raises(CommandError, match="The vault is not a bucket"):
            _command("vault_to_bucket")
