"""The periodic jobs of download requests, in django-celery-beat's database
schedule, so staff see and change them in the admin.

This migration is their only source: settings have no
CELERY_BEAT_SCHEDULE, which beat would write over admin edits on every start.
Rows are created only when missing (by name), so an edited or disabled
schedule survives re-running migrations. Intervals rather than crontabs:
django-celery-beat 2.8's crontab time-zone regressions (tasks not scheduled) do not
touch them.
"""

from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    # (name, task, every, period, description)
    (
        "pmd: clean up expired downloads",
        "pmd.tasks.cleanup_expired_bdrs",
        1,
        "days",
        "Deletes the files of expired download requests and marks them expired; removes "
        "temporary files of crashed builds and empty folders.",
    ),
    (
        "pmd: recover stuck downloads",
        "pmd.tasks.recover_stuck_bdrs",
        2,
        "minutes",
        "Enqueues again download requests left pending (their enqueue was lost) and takes "
        "back those whose worker died. Thresholds: PMD_BDR_*_RECOVERY_SECONDS.",
    ),
]


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, every, period, description in SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval = IntervalSchedule.objects.filter(every=every, period=period).first()
        if interval is None:
            interval = IntervalSchedule.objects.create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "interval": interval, "description": description},
        )
    # What PeriodicTasks.update_changed() does (not available on historical
    # models): a running beat reloads its schedule.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pmd", "0002_activityentry"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
