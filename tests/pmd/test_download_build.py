"""Building the ZIP of a download request, in this process."""

from __future__ import annotations

import os
import struct
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import storages
from django.utils import timezone

from pmd.downloads import build, events, storage, zipbuild
from pmd.models import BatchDownloadRequest
from pmd.tasks import process_bdr_job
from posts.public_ids import post_sqid, user_sqid
from testing.factories import make_comment, make_post, make_reaction, make_user
from tests.pmd.bdr_helpers import make_bdr, open_zip, read_json, use_private_vault

Status = BatchDownloadRequest.Status
ARTWORK_FIELDS = {
    "sqid",
    "filename",
    "title",
    "description",
    "created_at",
    "width",
    "height",
    "frame_count",
    "file_format",
    "file_bytes",
    "hashtags",
}


@pytest.fixture
def own_vault(settings, tmp_path):
    use_private_vault(settings, tmp_path)
    return tmp_path


def _vault_bytes(post) -> bytes:
    with storages["vault"].open(post.art.name, "rb") as handle:
        return handle.read()


def _folder(user) -> Path:
    return Path(storages["vault"].path(f"bdr/{user_sqid(user.pk)}"))


def _files_of(bdr) -> list[str]:
    """Names in the owner's folder that belong to `bdr` (ZIP or temporary file);
    the vault is shared by the whole run and ids repeat between tests."""
    folder = _folder(bdr.user)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if str(bdr.pk) in p.name)


class TestBuild:
    def test_it_writes_the_layout_and_json_of_spec_7(self, owner, other):
        tricky = make_post(
            owner,
            file_format="gif",
            title="../../etc/passwd ✨ " + "long " * 50,
            description="",
            hashtags="pixel art",
            hidden_by_user=True,
        )
        plain = make_post(owner, file_format="png")
        webp = make_post(owner, file_format="webp")
        first = make_comment(plain, author=other, body="Lovely <b>pixels</b> 🔥")
        anonymous = make_comment(plain, author=None, body="anon")
        make_comment(plain, author=other, body="hidden", hidden_by_mod=True)
        make_comment(plain, author=other, body="deleted", deleted_by_owner=True)
        make_reaction(plain, owner, "🔥")
        make_reaction(plain, other, "🔥")
        make_reaction(plain, other, "❤️")
        posts = [webp, tricky, plain]
        bdr = make_bdr(owner, posts, include_comments=True, include_reactions=True)

        assert build.download_request_build(bdr.pk) == "ready"

        bdr.refresh_from_db()
        assert bdr.status == Status.READY
        assert bdr.file_path == f"bdr/{user_sqid(owner.pk)}/{bdr.pk}.zip"
        assert bdr.expires_at == bdr.completed_at + timedelta(days=7)
        assert bdr.artwork_count == bdr.progress == 3
        assert bdr.file_size_bytes == Path(storages["vault"].path(bdr.file_path)).stat().st_size
        archive = open_zip(bdr)
        assert archive.testzip() is None
        artwork_names = [f"artworks/{post.public_sqid}.{post.file_format}" for post in posts]
        assert archive.namelist() == [
            *artwork_names,
            "metadata.json",
            "comments.json",
            "reactions.json",
        ]
        for post, name in zip(posts, artwork_names, strict=True):
            info = archive.getinfo(name)
            assert info.compress_type == zipfile.ZIP_STORED
            assert archive.read(name) == _vault_bytes(post)
        for name in ("metadata.json", "comments.json", "reactions.json"):
            assert archive.getinfo(name).compress_type == zipfile.ZIP_DEFLATED

        metadata = read_json(archive, "metadata.json")
        assert set(metadata) == {
            "generated_at",
            "user_handle",
            "artwork_count",
            "part",
            "parts",
            "artworks",
            "missing",
        }
        assert metadata["user_handle"] == "alice"
        assert (metadata["part"], metadata["parts"]) == (None, None)
        assert metadata["artwork_count"] == 3
        assert metadata["missing"] == []
        assert metadata["generated_at"].endswith("+00:00")
        assert [item["sqid"] for item in metadata["artworks"]] == [p.public_sqid for p in posts]
        tricky_item = metadata["artworks"][1]
        assert set(tricky_item) == ARTWORK_FIELDS
        assert tricky_item == {
            "sqid": tricky.public_sqid,
            "filename": f"artworks/{tricky.public_sqid}.gif",
            "title": tricky.title,
            "description": "",
            "created_at": tricky.created_at.isoformat(),
            "width": tricky.width,
            "height": tricky.height,
            "frame_count": tricky.frame_count,
            "file_format": "gif",
            "file_bytes": tricky.file_bytes,
            "hashtags": ["pixel", "art"],
        }

        comments = read_json(archive, "comments.json")
        assert set(comments) == {"generated_at", "comments_by_artwork"}
        assert comments["comments_by_artwork"] == {
            webp.public_sqid: [],
            tricky.public_sqid: [],
            plain.public_sqid: [
                {
                    "id": first.pk,
                    "author_handle": "bob",
                    "body": "Lovely <b>pixels</b> 🔥",
                    "created_at": first.created_at.isoformat(),
                },
                {
                    "id": anonymous.pk,
                    "author_handle": None,
                    "body": "anon",
                    "created_at": anonymous.created_at.isoformat(),
                },
            ],
        }
        reactions = read_json(archive, "reactions.json")
        assert set(reactions) == {"generated_at", "reactions_by_artwork"}
        assert reactions["reactions_by_artwork"] == {
            webp.public_sqid: {},
            tricky.public_sqid: {},
            plain.public_sqid: {"🔥": 2, "❤️": 1},
        }

    def test_comments_keep_the_request_order_whatever_the_query_batches(
        self, owner, other, monkeypatch
    ):
        monkeypatch.setattr(zipbuild, "COMMENTS_PER_QUERY", 2)
        posts = [make_post(owner) for _ in range(5)]
        bodies = {0: ["a"], 1: ["b", "c", "d"], 3: ["e"], 4: ["f", "g"]}
        for index, texts in bodies.items():
            for text in texts:
                make_comment(posts[index], author=other, body=text)
        order = [posts[4], posts[0], posts[1], posts[2], posts[3]]
        bdr = make_bdr(owner, order, include_comments=True)
        build.download_request_build(bdr.pk)
        comments = read_json(open_zip(bdr), "comments.json")["comments_by_artwork"]
        assert list(comments) == [post.public_sqid for post in order]
        assert [[c["body"] for c in comments[post.public_sqid]] for post in order] == [
            ["f", "g"],
            ["a"],
            ["b", "c", "d"],
            [],
            ["e"],
        ]

    def test_it_leaves_out_comments_and_reactions_unless_asked(self, owner, other):
        post = make_post(owner)
        make_comment(post, author=other)
        make_reaction(post, other)
        bdr = make_bdr(owner, [post])
        build.download_request_build(bdr.pk)
        assert open_zip(bdr).namelist() == [f"artworks/{post.public_sqid}.png", "metadata.json"]

    def test_it_lists_missing_artworks_and_ships_the_rest(self, owner):
        kept = make_post(owner)
        gone_file = make_post(owner)
        deleted_since = make_post(owner)
        bdr = make_bdr(owner, [gone_file, kept, deleted_since])
        storages["vault"].delete(gone_file.art.name)
        deleted_since.deleted_by_user = True
        deleted_since.deleted_by_user_date = timezone.now()
        deleted_since.save()
        vanished_id = deleted_since.pk + 10_000
        bdr.post_ids = [*bdr.post_ids, vanished_id]
        bdr.save()

        assert build.download_request_build(bdr.pk) == "ready"

        bdr.refresh_from_db()
        assert bdr.artwork_count == 1
        archive = open_zip(bdr)
        assert archive.namelist() == [f"artworks/{kept.public_sqid}.png", "metadata.json"]
        metadata = read_json(archive, "metadata.json")
        assert metadata["artwork_count"] == 1
        assert metadata["missing"] == [
            {"sqid": gone_file.public_sqid, "reason": "The artwork file is missing."},
            {
                "sqid": deleted_since.public_sqid,
                "reason": "This post was deleted after the download was requested.",
            },
            {"sqid": post_sqid(vanished_id), "reason": "This post no longer exists."},
        ]

    def test_it_fails_with_a_clear_message_when_no_artwork_can_be_read(self, owner):
        posts = [make_post(owner), make_post(owner)]
        for post in posts:
            storages["vault"].delete(post.art.name)
        bdr = make_bdr(owner, posts)

        assert build.download_request_build(bdr.pk) == "failed"

        bdr.refresh_from_db()
        assert bdr.status == Status.FAILED
        assert bdr.error_message.startswith("None of the 2 artworks could be read")
        assert "Traceback" not in bdr.error_message
        assert bdr.file_path == ""
        assert _files_of(bdr) == []

    def test_a_second_run_of_a_ready_request_does_nothing(self, owner):
        bdr = make_bdr(owner, [make_post(owner)])
        build.download_request_build(bdr.pk)
        bdr.refresh_from_db()
        path = Path(storages["vault"].path(bdr.file_path))
        before = (path.read_bytes(), path.stat().st_mtime_ns, bdr.completed_at)

        assert build.download_request_build(bdr.pk) == "skipped"

        bdr.refresh_from_db()
        assert (path.read_bytes(), path.stat().st_mtime_ns, bdr.completed_at) == before
        assert _files_of(bdr) == [f"{bdr.pk}.zip"]

    def test_it_leaves_a_request_another_live_run_is_building(self, owner):
        # Started long ago, but its heartbeat is fresh: the run is alive.
        started = timezone.now() - timedelta(minutes=50)
        bdr = make_bdr(
            owner,
            [make_post(owner)],
            status=Status.PROCESSING,
            started_at=started,
            heartbeat_at=timezone.now() - timedelta(seconds=5),
        )
        assert build.download_request_build(bdr.pk) == "skipped"
        bdr.refresh_from_db()
        assert (bdr.status, bdr.started_at) == (Status.PROCESSING, started)

    def test_it_takes_over_a_request_whose_worker_died(self, owner, settings):
        long_ago = timezone.now() - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS + 60)
        bdr = make_bdr(
            owner, [make_post(owner)], status=Status.PROCESSING, started_at=long_ago, progress=1
        )
        assert build.download_request_build(bdr.pk) == "ready"
        bdr.refresh_from_db()
        assert bdr.started_at > long_ago

    def test_a_run_that_lost_its_lease_does_not_publish(self, owner, settings, monkeypatch):
        bdr = make_bdr(owner, [make_post(owner)])
        first, first_lease = build.download_request_claim(bdr.pk)
        # Its worker looks dead: a recovery run takes the request over.
        quiet = first_lease - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS)
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(started_at=quiet, heartbeat_at=quiet)
        assert build.download_request_claim(bdr.pk) is not None
        # The first run finishes its ZIP late: it must not publish it.
        with pytest.raises(build.LeaseLost):
            build.build_and_stage(first, first_lease, handle="alice")
        assert _files_of(bdr) == []
        # Even with its ZIP finished before the takeover, it must not publish it.
        monkeypatch.setattr(build, "_save_progress", lambda *args: None)
        result, staged = build.build_and_stage(first, first_lease, handle="alice")
        assert build.publish(first, first_lease, result, staged) == "superseded"
        assert _files_of(bdr) == []
        assert not storages["vault"].exists(storage.zip_name(bdr))
        bdr.refresh_from_db()
        assert bdr.status == Status.PROCESSING
        # A retry of the first run (carrying its old lease) does nothing either.
        assert build.download_request_build(bdr.pk, lease=first_lease.isoformat()) == "skipped"

    def test_the_zip_is_fsynced_before_its_rename_and_the_folder_after(self, owner, monkeypatch):
        # A power cut must never leave an empty "ready" file.
        calls: list[tuple[str, str]] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(descriptor: int) -> None:
            calls.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
            real_fsync(descriptor)

        def replace(source, target) -> None:
            calls.append(("replace", str(target)))
            real_replace(source, target)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        bdr = make_bdr(owner, [make_post(owner)])
        assert build.download_request_build(bdr.pk) == "ready"
        bdr.refresh_from_db()
        final = storages["vault"].path(bdr.file_path)
        (kind, temp), *rest = calls[-3:]
        assert kind == "fsync"
        assert temp.endswith(storage.TEMP_SUFFIX) and f"/.{bdr.pk}." in temp
        assert rest == [("replace", final), ("fsync", str(Path(final).parent))]

    def test_it_writes_zip64_entries_that_open(self, owner, monkeypatch):
        monkeypatch.setattr(zipbuild, "ZIP64_ENTRY_BYTES", 1)
        post = make_post(owner)
        bdr = make_bdr(owner, [post])
        build.download_request_build(bdr.pk)
        archive = open_zip(bdr)
        info = archive.getinfo(f"artworks/{post.public_sqid}.png")
        with open(archive.filename, "rb") as raw:
            raw.seek(info.header_offset)
            local_header = raw.read(30)
            name_length, extra_length = struct.unpack("<HH", local_header[26:30])
            raw.seek(name_length, 1)
            extra = raw.read(extra_length)
        assert extra[:2] == b"\x01\x00"  # the entry's local header has ZIP64 sizes
        assert archive.read(info) == _vault_bytes(post)
        assert archive.testzip() is None

    def test_it_fails_a_build_that_runs_past_the_soft_time_limit(self, owner, monkeypatch):
        # The worker raises SoftTimeLimitExceeded inside the task when the soft
        # limit passes (prefork pool); here it comes from the first artwork.
        def too_slow(*args, **kwargs):
            raise SoftTimeLimitExceeded()

        monkeypatch.setattr(zipbuild, "_add_artwork", too_slow)
        bdr = make_bdr(owner, [make_post(owner)])
        assert build.download_request_build(bdr.pk) == "failed"
        bdr.refresh_from_db()
        assert (bdr.status, bdr.error_message) == (Status.FAILED, build.TOO_SLOW)
        assert _files_of(bdr) == []

    def test_it_retries_after_a_transient_failure_and_carries_on(self, owner, own_vault):
        bdr = make_bdr(owner, [make_post(owner)])
        # The user's folder cannot be created: a file is in the way.
        folder = _folder(owner)
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_bytes(b"")
        try:
            with pytest.raises(build.TransientBuildError) as caught:
                build.download_request_build(bdr.pk)
        finally:
            folder.unlink()
        bdr.refresh_from_db()
        assert bdr.status == Status.PROCESSING
        assert caught.value.lease == bdr.started_at.isoformat()

        assert build.download_request_build(bdr.pk, lease=caught.value.lease) == "ready"

    def test_the_task_fails_the_request_when_retries_run_out(self, owner, own_vault, caplog):
        bdr = make_bdr(owner, [make_post(owner)])
        folder = _folder(owner)
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_bytes(b"")
        try:
            # apply() runs the task here, retries included (without waiting).
            outcome = process_bdr_job.apply(args=[str(bdr.pk)]).get()
        finally:
            folder.unlink()
        assert outcome == "failed"
        bdr.refresh_from_db()
        assert bdr.status == Status.FAILED
        assert bdr.error_message == build.NOT_SAVED
        assert "transient build failure" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_progress_and_every_status_change_are_announced_after_commit(monkeypatch):
    owner = make_user("dora")
    monkeypatch.setattr(zipbuild, "PROGRESS_EVERY_SECONDS", 0)
    seen: list[tuple[str, int]] = []

    def record(bdr):
        stored = BatchDownloadRequest.objects.get(pk=bdr.pk)
        # Announced only once committed: another connection would see the same.
        assert (stored.status, stored.progress) == (bdr.status, bdr.progress)
        seen.append((bdr.status, bdr.progress))

    monkeypatch.setattr(events, "bdr_changed", record)
    bdr = make_bdr(owner, [make_post(owner) for _ in range(3)])
    build.download_request_build(bdr.pk)
    assert seen == [
        (Status.PROCESSING, 0),
        (Status.PROCESSING, 1),
        (Status.PROCESSING, 2),
        (Status.PROCESSING, 3),
        (Status.READY, 3),
    ]
