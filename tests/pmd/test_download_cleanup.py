"""Expiry, cleanup and recovery of download requests , and their schedules."""

from __future__ import annotations

import importlib
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core import mail
from django.core.files.storage import storages
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from pmd import downloads
from pmd.downloads import build, cleanup, storage
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post
from testing.services import require_redis
from testing.worker import queued_messages
from tests.pmd.bdr_helpers import make_bdr, use_private_vault

Status = BatchDownloadRequest.Status


@pytest.fixture
def own_vault(settings, tmp_path):
    use_private_vault(settings, tmp_path)
    return tmp_path


def _ready(owner) -> BatchDownloadRequest:
    bdr = make_bdr(owner, [make_post(owner)])
    assert build.download_request_build(bdr.pk) == "ready"
    bdr.refresh_from_db()
    return bdr


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


class TestCleanup:
    def test_it_deletes_expired_files_and_keeps_the_rows_twice_in_a_row(
        self, owner, own_vault, django_capture_on_commit_callbacks
    ):
        due, fresh = _ready(owner), _ready(owner)
        BatchDownloadRequest.objects.filter(pk=due.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        due_file = Path(storages["vault"].path(due.file_path))

        with django_capture_on_commit_callbacks(execute=True):
            first = cleanup.downloads_cleanup()
        with django_capture_on_commit_callbacks(execute=True):
            second = cleanup.downloads_cleanup()

        assert first.expired == 1
        assert second == cleanup.CleanupResult()
        due.refresh_from_db()
        assert (due.status, due.file_path) == (Status.EXPIRED, "")
        assert due.file_size_bytes is not None  # what it was stays on record
        assert not due_file.exists()
        fresh.refresh_from_db()
        assert fresh.status == Status.READY
        assert storages["vault"].exists(fresh.file_path)

    def test_it_copes_with_a_file_already_gone(
        self, owner, own_vault, django_capture_on_commit_callbacks
    ):
        bdr = _ready(owner)
        storages["vault"].delete(bdr.file_path)
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(expires_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            assert cleanup.downloads_cleanup().expired == 1
        bdr.refresh_from_db()
        assert bdr.status == Status.EXPIRED

    def test_it_sweeps_crashed_builds_orphans_and_empty_folders(self, owner, own_vault, settings):
        bdr = _ready(owner)
        folder = Path(storages["vault"].path(f"bdr/{user_sqid(owner.pk)}"))
        stale_temp = folder / f".{uuid.uuid4()}.abc123{storage.TEMP_SUFFIX}"
        live_temp = folder / f".{uuid.uuid4()}.def456{storage.TEMP_SUFFIX}"
        old_orphan = folder / f"{uuid.uuid4()}.zip"
        new_orphan = folder / f"{uuid.uuid4()}.zip"
        not_ours = folder / "notes.zip"
        for path in (stale_temp, live_temp, old_orphan, new_orphan, not_ours):
            path.write_bytes(b"PK")
        _age(stale_temp, settings.PMD_BDR_LEASE_SECONDS + 10)
        _age(old_orphan, cleanup.ORPHAN_GRACE_SECONDS + 10)
        _age(not_ours, cleanup.ORPHAN_GRACE_SECONDS + 10)
        _age(Path(storages["vault"].path(bdr.file_path)), cleanup.ORPHAN_GRACE_SECONDS + 10)
        empty = folder.parent / "zzzzzz"
        empty.mkdir()

        result = cleanup.downloads_cleanup()

        assert result == cleanup.CleanupResult(
            expired=0, orphans_deleted=1, temp_files_deleted=1, folders_removed=1
        )
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [live_temp.name, new_orphan.name, not_ours.name, f"{bdr.pk}.zip"]
        )
        assert not empty.exists()
        assert cleanup.downloads_cleanup().folders_removed == 0

    def test_expire_now_refuses_what_is_not_ready(self, owner):
        bdr = make_bdr(owner, [make_post(owner)], status=Status.FAILED)
        assert downloads.download_request_expire(bdr=bdr) is False
        bdr.refresh_from_db()
        assert bdr.status == Status.FAILED


class TestRecovery:
    def test_it_enqueues_again_a_request_pending_too_long(self, owner, settings, empty_test_queue):
        require_redis()
        threshold = timedelta(seconds=settings.PMD_BDR_PENDING_RECOVERY_SECONDS)
        stuck = make_bdr(owner, [make_post(owner)], created_at=timezone.now() - threshold * 2)
        make_bdr(owner, [make_post(owner)])  # just made: its message may still be on its way

        result = cleanup.downloads_recover()

        assert result == cleanup.RecoveryResult(requeued_pending=1)
        assert queued_messages() == 1
        # The run that message starts builds it; a duplicate would do nothing.
        assert build.download_request_build(stuck.pk) == "ready"
        assert build.download_request_build(stuck.pk) == "skipped"

    def test_it_takes_back_a_request_whose_worker_died(self, owner, settings, empty_test_queue):
        require_redis()
        # Its last heartbeat is a lease old; the other one's build started an
        # hour ago, longer than any lease, but it still beats.
        died = timezone.now() - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS + 1)
        stuck = make_bdr(
            owner,
            [make_post(owner)],
            status=Status.PROCESSING,
            started_at=died - timedelta(minutes=5),
            heartbeat_at=died,
        )
        make_bdr(
            owner,
            [make_post(owner)],
            status=Status.PROCESSING,
            started_at=timezone.now() - timedelta(hours=1),
            heartbeat_at=timezone.now() - timedelta(seconds=1),
        )

        assert cleanup.downloads_recover() == cleanup.RecoveryResult(taken_back=1)
        assert queued_messages() == 1
        assert build.download_request_build(stuck.pk) == "ready"

    def test_it_gives_up_on_a_request_unfinished_for_too_long(
        self, owner, settings, eager_tasks, django_capture_on_commit_callbacks
    ):
        settings.PMD_BDR_PENDING_RECOVERY_SECONDS = 10**6
        ancient = timezone.now() - timedelta(hours=settings.PMD_BDR_GIVE_UP_HOURS, minutes=1)
        bdr = make_bdr(owner, [make_post(owner)], created_at=ancient, send_email=True)

        with django_capture_on_commit_callbacks(execute=True):
            assert cleanup.downloads_recover() == cleanup.RecoveryResult(given_up=1)

        bdr.refresh_from_db()
        assert (bdr.status, bdr.error_message) == (Status.FAILED, build.GAVE_UP)
        assert [message.subject for message in mail.outbox] == [
            "Your download of 1 artwork could not be built"
        ]

    def test_nothing_to_do_is_nothing_done(self, owner, empty_test_queue):
        make_bdr(owner, [make_post(owner)])
        _ready(owner)
        assert cleanup.downloads_recover() == cleanup.RecoveryResult()


class TestSchedules:
    migration = importlib.import_module("pmd.migrations.0003_download_schedules")

    def test_they_exist_after_migrate_and_admin_edits_survive(self, db):
        self.migration.create_schedules(apps, None)
        cleanup = PeriodicTask.objects.get(name="pmd: clean up expired downloads")
        recovery = PeriodicTask.objects.get(name="pmd: recover stuck downloads")
        assert (cleanup.task, cleanup.interval.every, cleanup.interval.period) == (
            "pmd.tasks.cleanup_expired_bdrs",
            1,
            "days",
        )
        # Every 30 seconds since migration 0005 (the heartbeat lease).
        assert (recovery.task, recovery.interval.every, recovery.interval.period) == (
            "pmd.tasks.recover_stuck_bdrs",
            30,
            "seconds",
        )
        assert cleanup.enabled and recovery.enabled
        # Staff change the schedule in the admin; migrating again keeps it.
        cleanup.enabled = False
        cleanup.save()
        self.migration.create_schedules(apps, None)
        assert PeriodicTask.objects.get(name=cleanup.name).enabled is False
        # Theirs and the bin's (migration 0008).
        assert PeriodicTask.objects.filter(task__startswith="pmd.tasks.").count() == 3

    def test_the_recovery_moves_to_30_seconds_unless_staff_changed_it(self, db):
        speedup = importlib.import_module("pmd.migrations.0005_recover_every_30_seconds")
        recovery = PeriodicTask.objects.get(name="pmd: recover stuck downloads")
        two_minutes, _ = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
        five_minutes, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")

        recovery.interval = two_minutes
        recovery.save()
        speedup.every_30_seconds(apps, None)
        recovery.refresh_from_db()
        assert (recovery.interval.every, recovery.interval.period) == (30, "seconds")

        recovery.interval = five_minutes  # a staff edit
        recovery.save()
        speedup.every_30_seconds(apps, None)
        recovery.refresh_from_db()
        assert (recovery.interval.every, recovery.interval.period) == (5, "minutes")

    def test_the_tasks_they_name_exist(self):
        from pmd_project.celery import app

        for _, task, *_ in self.migration.SCHEDULES:
            assert task in app.tasks

    def test_settings_hold_no_second_schedule(self):
        assert not getattr(django_settings, "CELERY_BEAT_SCHEDULE", None)
