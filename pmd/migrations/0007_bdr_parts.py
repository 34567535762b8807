"""Parts of a split download (over 128 posts): part_number of part_count, both null
for a request on its own."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pmd', '0006_activity_undo_hashtag'),
    ]

    operations = [
        migrations.AddField(
            model_name='batchdownloadrequest',
            name='part_count',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='batchdownloadrequest',
            name='part_number',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='batchdownloadrequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('part_count__isnull', True), ('part_number__isnull', True)), models.Q(('part_count__isnull', False), ('part_count__lte', 100), ('part_number__gte', 1), ('part_number__isnull', False), ('part_number__lte', models.F('part_count'))), _connector='OR'), name='bdr_part_within_count'),
        ),
    ]
