# Access keys may expire (issue 14 §6): rotation keeps the old key working until
# a grace period ends. The generation triggers of 0004 already fire on a change of
# any column but last_used_at, so setting an expiry reaches every server's cache.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_cluster_generation'),
    ]

    operations = [
        migrations.AddField(
            model_name='accesskey',
            name='expires_at',
            field=models.DateTimeField(
                blank=True, null=True,
                help_text='Requests signed with the key are refused from this time on (empty: never expires).'),
        ),
    ]
