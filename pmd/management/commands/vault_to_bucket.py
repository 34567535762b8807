"""`manage.py vault_to_bucket`: copy a local vault folder into the vault's bucket.

For moving a deployment from PMD_VAULT_ROOT to PMD_VAULT_URL: every file keeps
its name (artwork files and ready ZIPs alike), so the rows that name them find
them in the bucket. An object appears in S3 only once its upload is complete,
and a file whose object is there already with the same size is skipped, so the
command can be stopped at any point and run again: it copies what is missing
and nothing twice. Vault names never start with ".", so hidden files (the
temporary files of builds that were running) are left out.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pmd_project.lib.vault import BucketVault, vault

# Files uploaded at once: small artworks are dominated by round trips.
CONCURRENCY = 8
# Files handed to the uploader before waiting for them (bounded memory).
BATCH = 200


def local_files(root: Path) -> dict[str, Path]:
    """Vault name -> file, for every file under `root` but hidden ones."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path
    return files


def bucket_sizes(store: BucketVault) -> dict[str, int]:
    """Key -> size of every object under the vault's prefix (one listing)."""
    sizes = {}
    paginator = store.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=store.key("")):
        for item in page.get("Contents", []):
            sizes[item["Key"]] = item["Size"]
    return sizes


class Command(BaseCommand):
    help = (
        "Copy a local vault folder (default PMD_VAULT_ROOT) into the bucket of PMD_VAULT_URL, "
        "keeping every name. Skips what is already there with the same size, so it can be "
        "stopped and run again until it reports nothing left to copy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            type=Path,
            default=None,
            help="the local vault folder (default: PMD_VAULT_ROOT)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be copied, copy nothing"
        )

    def handle(self, *args, **options) -> None:
        storage = vault()
        if not isinstance(storage, BucketVault):
            raise CommandError(
                "The vault is not a bucket (PMD_VAULT_URL is not set): set PMD_VAULT_URL and "
                "the store's AWS_* variables, then run this to copy the local folder there."
            )
        source = (options["source"] or Path(settings.PMD_VAULT_ROOT)).resolve()
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder.")
        files = local_files(source)
        try:
            there = bucket_sizes(storage)
        except storage.errors as error:
            raise CommandError(f"Could not list the bucket: {storage.problem(error)}.") from None
        missing = {
            name: path
            for name, path in files.items()
            if there.get(storage.key(name)) != path.stat().st_size
        }
        in_bucket = len(files) - len(missing)
        if options["dry_run"]:
            self.stdout.write(
                f"{len(missing)} of {len(files)} files to copy from {source} "
                f"({in_bucket} in the bucket already)."
            )
            return
        failed = self._copy(storage, missing)
        copied = len(missing) - len(failed)
        size = sum(path.stat().st_size for name, path in missing.items() if name not in failed)
        self.stdout.write(
            f"Copied {copied} files ({size / 1e6:.1f} MB) from {source}; "
            f"{in_bucket} were in the bucket already."
        )
        if failed:
            first, problem = next(iter(failed.items()))
            raise CommandError(
                f"{len(failed)} files could not be copied (the first, {first}: {problem}). "
                "Run the command again to copy them."
            )

    def _copy(self, storage: BucketVault, files: dict[str, Path]) -> dict[str, str]:
        """Upload `files` (vault name -> file); the problem of each that failed."""
        from boto3.s3.transfer import TransferConfig
        from s3transfer.manager import TransferManager

        failed: dict[str, str] = {}
        names = list(files)
        config = TransferConfig(max_concurrency=CONCURRENCY)
        with TransferManager(storage.client, config) as manager:
            for start in range(0, len(names), BATCH):
                batch = names[start : start + BATCH]
                uploads = {
                    name: manager.upload(
                        str(files[name]),
                        storage.bucket,
                        storage.key(name),
                        extra_args={
                            "ContentType": mimetypes.guess_type(name)[0]
                            or "application/octet-stream"
                        },
                    )
                    for name in batch
                }
                for name, upload in uploads.items():
                    try:
                        upload.result()
                    except (OSError,) + storage.errors as error:
                        failed[name] = (
                            str(error) if isinstance(error, OSError) else storage.problem(error)
                        )
                self.stdout.write(f"  {start + len(batch)} of {len(names)} files…")
        return failed
