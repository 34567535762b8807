"""Jobs (pmd.jobs): the Job table, each activity entry's job and chunk, and
the periodic "pmd: recover stuck jobs" (every 30 seconds), created only when
missing, as 0003's schedules."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

from django.utils import timezone

RECOVERY = "pmd: recover stuck jobs"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=RECOVERY).exists():
        return
    interval = IntervalSchedule.objects.filter(every=30, period="seconds").first()
    if interval is None:
        interval = IntervalSchedule.objects.create(every=30, period="seconds")
    PeriodicTask.objects.create(
        name=RECOVERY,
        task="pmd.tasks.recover_stuck_jobs",
        interval=interval,
        description=(
            "Enqueues again jobs left queued (their enqueue was lost) and takes over those "
            "whose worker stopped renewing its lease. Thresholds: "
            "PMD_BDR_PENDING_RECOVERY_SECONDS, PMD_BDR_LEASE_SECONDS."
        ),
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=RECOVERY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pmd", "0008_bin"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="activityentry",
            name="chunk",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="Job",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("hide", "Hide"),
                            ("unhide", "Unhide"),
                            ("delete", "Delete"),
                            ("restore", "Restore"),
                            ("add_hashtag", "Add hashtag"),
                            ("remove_hashtag", "Remove hashtag"),
                            ("delete_forever", "Delete forever"),
                        ],
                        max_length=16,
                    ),
                ),
                ("hashtag", models.CharField(blank=True, max_length=30)),
                ("params", models.JSONField(blank=True, default=dict)),
                ("post_ids", models.JSONField(blank=True, default=list)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("cancelled", "Cancelled"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                ("total", models.PositiveIntegerField()),
                ("position", models.PositiveIntegerField(default=0)),
                ("done", models.PositiveIntegerField(default=0, help_text="Posts worked on.")),
                (
                    "changed",
                    models.PositiveIntegerField(default=0, help_text="Posts the job changed."),
                ),
                (
                    "skipped",
                    models.PositiveIntegerField(
                        default=0, help_text="Posts that could not take it."
                    ),
                ),
                (
                    "failed",
                    models.PositiveIntegerField(
                        default=0, help_text="Posts of chunks that failed."
                    ),
                ),
                ("skip_reasons", models.JSONField(blank=True, default=dict)),
                ("cancel_requested", models.BooleanField(default=False)),
                ("error_message", models.CharField(blank=True, max_length=500)),
                ("lease", models.UUIDField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "activity",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="pmd.activityentry",
                    ),
                ),
                (
                    "undo_of",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="undone_by",
                        to="pmd.job",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="jobs",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="activityentry",
            name="job",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="entries",
                to="pmd.job",
            ),
        ),
        migrations.AddConstraint(
            model_name="activityentry",
            constraint=models.UniqueConstraint(
                fields=("job", "chunk"), name="activity_one_entry_per_chunk"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["user", "-created_at"], name="job_user_newest"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=["status", "heartbeat_at"],
                name="job_unfinished",
            ),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=("user",),
                name="job_one_unfinished_per_user",
            ),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
