"""The recovery job runs every 30 seconds instead of every 2 minutes.

A dead worker's build is taken over once its heartbeat is older than
PMD_BDR_LEASE_SECONDS (120 s by default); run every 2 minutes, the job could
notice that up to 4 minutes after the worker died, every 30 seconds within
2.5 (a dead worker's request must be taken over within 3). Only a schedule
still as migration 0003 made it (every 2 minutes) is changed: one staff
edited in the admin is left as it is (staff's change wins).
"""

from django.db import migrations
from django.utils import timezone

NAME = "pmd: recover stuck downloads"
DESCRIPTION = (
    "Enqueues again download requests left pending (their enqueue was lost) and takes "
    "back those whose build stopped renewing its lease (its worker died). Thresholds: "
    "PMD_BDR_PENDING_RECOVERY_SECONDS, PMD_BDR_LEASE_SECONDS."
)


def _move(apps, *, old: tuple[int, str], new: tuple[int, str], description: str | None) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    task = PeriodicTask.objects.select_related("interval").filter(name=NAME).first()
    if task is None or task.interval is None:
        return
    if (task.interval.every, task.interval.period) != old:
        return  # changed by staff: theirs to keep
    every, period = new
    interval = IntervalSchedule.objects.filter(every=every, period=period).first()
    if interval is None:
        interval = IntervalSchedule.objects.create(every=every, period=period)
    task.interval = interval
    if description is not None:
        task.description = description
    task.save(update_fields=["interval", "description"])
    # A running beat reloads its schedule (PeriodicTasks.update_changed()).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def every_30_seconds(apps, schema_editor):
    _move(apps, old=(2, "minutes"), new=(30, "seconds"), description=DESCRIPTION)


def every_2_minutes(apps, schema_editor):
    _move(apps, old=(30, "seconds"), new=(2, "minutes"), description=None)


class Migration(migrations.Migration):
    dependencies = [("pmd", "0004_bdr_heartbeat")]

    operations = [migrations.RunPython(every_30_seconds, every_2_minutes)]
