"""The vault's management commands against moto's S3 server (tests/objectstore.py):
`vault_lifecycle` and `vault_to_bucket`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

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
