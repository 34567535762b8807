"""`manage.py vault_lifecycle`: set the bucket's lifecycle rules for the vault.

The app never lists the bucket, so two things would stay there for ever
without these rules: the parts of an upload whose worker was killed and whose
request no run came back for (invisible, but billed), and a ZIP whose expiry
could not delete it. Both rules cover the vault's prefix only, under names of
their own, so deployments sharing a bucket (and rules of other programs) keep
theirs; running the command again changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pmd.downloads.storage import DOWNLOADS_DIR
from pmd_project.lib.vault import BucketVault, vault

# Days after which an unfinished upload is aborted: a build uploads its ZIP in
# minutes, so a day-old upload belongs to a dead worker.
UNFINISHED_UPLOAD_DAYS = 1
# Days past a download's lifetime after which its ZIP goes whatever happened:
# the daily cleanup deletes expired ZIPs through their rows long before.
ZIP_GRACE_DAYS = 2


def vault_lifecycle_rules(store: BucketVault) -> list[dict]:
    """The vault's two rules, in the shape of S3's PutBucketLifecycleConfiguration."""
    everything = store.key("")  # "<prefix>/", or "" for a whole bucket
    zips = store.key(f"{DOWNLOADS_DIR}/")
    return [
        {
            "ID": f"pmd-unfinished-uploads:{everything}",
            "Status": "Enabled",
            "Filter": {"Prefix": everything},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": UNFINISHED_UPLOAD_DAYS},
        },
        {
            "ID": f"pmd-old-zips:{zips}",
            "Status": "Enabled",
            "Filter": {"Prefix": zips},
            "Expiration": {"Days": settings.PMD_BDR_TTL_DAYS + ZIP_GRACE_DAYS},
        },
    ]


def current_rules(client, bucket: str) -> list[dict]:
    from botocore.exceptions import ClientError

    try:
        return client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise


class Command(BaseCommand):
    help = (
        "Set the vault bucket's lifecycle rules: abort uploads unfinished after a day, and "
        "delete ZIPs older than PMD_BDR_TTL_DAYS + 2 days. Keeps every other rule; safe to "
        "run again (after changing PMD_BDR_TTL_DAYS, for one)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="print the rules, change nothing"
        )

    def handle(self, *args, **options) -> None:
        storage = vault()
        if not isinstance(storage, BucketVault):
            raise CommandError(
                "The vault is a local folder (PMD_VAULT_URL is not set): there is no bucket "
                "to set rules on."
            )
        client = storage.client
        bucket = storage.bucket
        ours = vault_lifecycle_rules(storage)
        try:
            others = [
                rule
                for rule in current_rules(client, bucket)
                if rule.get("ID") not in {rule["ID"] for rule in ours}
            ]
            if not options["dry_run"]:
                client.put_bucket_lifecycle_configuration(
                    Bucket=bucket, LifecycleConfiguration={"Rules": [*others, *ours]}
                )
        except storage.errors as error:
            raise CommandError(
                f"Could not set the lifecycle rules of {bucket}: {storage.problem(error)}."
            ) from None
        verb = "Would set" if options["dry_run"] else "Set"
        unfinished, zips = ours
        self.stdout.write(
            f"{verb} the lifecycle rules of bucket {bucket}:\n"
            f"  {unfinished['ID']}: abort uploads under {unfinished['Filter']['Prefix']!r} "
            f"unfinished after {UNFINISHED_UPLOAD_DAYS} day\n"
            f"  {zips['ID']}: delete objects under {zips['Filter']['Prefix']!r} "
            f"after {zips['Expiration']['Days']} days\n"
            f"and kept {len(others)} other rule{'s' if len(others) != 1 else ''}."
        )
