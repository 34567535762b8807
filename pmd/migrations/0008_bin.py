"""Delete forever: the action's name among the activity log's choices, the
log's mark for what the site did on its own, and the daily job that empties
the bin, created only when missing (by name) so an edited or disabled
schedule survives re-running migrations (as 0003's)."""

from django.db import migrations, models
from django.utils import timezone

NAME = "pmd: empty the bin"
TASK = "pmd.tasks.empty_the_bin"
DESCRIPTION = (
    "Deletes for good the posts deleted more than PMD_RESTORE_DAYS ago, with their comments, "
    "reactions and artwork files, and records it in each owner's activity."
)


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    interval = IntervalSchedule.objects.filter(every=1, period="days").first()
    if interval is None:
        interval = IntervalSchedule.objects.create(every=1, period="days")
    PeriodicTask.objects.create(
        name=NAME, task=TASK, interval=interval, description=DESCRIPTION
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pmd", "0007_bdr_parts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="activityentry",
            name="automatic",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="activityentry",
            name="action",
            field=models.CharField(
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
        migrations.RunPython(create_schedule, remove_schedule),
    ]
