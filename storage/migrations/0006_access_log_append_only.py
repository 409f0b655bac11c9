# The access log as an audit trail (issue 14 §7): entries carry the error message
# and latency, and are append-only for everyone. The database refuses UPDATE and
# DELETE (and TRUNCATE) of ddb_access_log itself, so neither the admin, the ORM nor
# raw SQL can remove evidence; only the retention purge may delete, and it says so:
# - PostgreSQL: a statement trigger; the purge runs `SET LOCAL extenddb.purge = 'on'`
#   in its transaction, and the trigger lets that DELETE through.
# - SQLite: triggers that RAISE unless the guard table ddb_access_log_purge holds a
#   row; the purge inserts one, deletes, and removes it in one transaction (SQLite has
#   one writer, so no other connection ever sees the guard).
# The add/change/delete permissions of the model are removed: nobody can be granted them.
# On SQLite a later migration that remakes ddb_access_log drops these triggers: it must
# create them again (tests/test_audit.py's raw-DELETE test would fail otherwise).

from django.db import migrations, models

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ddb_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('extenddb.purge', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'ddb_access_log is append-only: % refused (only the retention purge deletes entries)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE TRIGGER ddb_access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ddb_access_log
        FOR EACH STATEMENT EXECUTE FUNCTION ddb_access_log_append_only()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS ddb_access_log_append_only ON ddb_access_log",
    "DROP FUNCTION IF EXISTS ddb_access_log_append_only()",
]
SQLITE_FORWARD = [
    "CREATE TABLE IF NOT EXISTS ddb_access_log_purge (active integer NOT NULL)",
    """
    CREATE TRIGGER IF NOT EXISTS ddb_access_log_no_update BEFORE UPDATE ON ddb_access_log
    BEGIN
        SELECT RAISE(ABORT, 'ddb_access_log is append-only: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS ddb_access_log_no_delete BEFORE DELETE ON ddb_access_log
    WHEN NOT EXISTS (SELECT 1 FROM ddb_access_log_purge)
    BEGIN
        SELECT RAISE(ABORT, 'ddb_access_log is append-only: DELETE refused (only the retention purge deletes entries)');
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS ddb_access_log_no_update",
    "DROP TRIGGER IF EXISTS ddb_access_log_no_delete",
    "DROP TABLE IF EXISTS ddb_access_log_purge",
]


def _run(pg: list[str], sqlite: list[str]):
    def run(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        for statement in pg if vendor == "postgresql" else sqlite if vendor == "sqlite" else []:
            schema_editor.execute(statement, None)  # no parameters: a % in a body is literal
    return run


def _drop_write_permissions(apps, schema_editor) -> None:
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="storage", codename__in=[
        "add_accesslogentry", "change_accesslogentry", "delete_accesslogentry"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('storage', '0005_pitr_history'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='accesslogentry',
            options={'default_permissions': ('view',), 'verbose_name_plural': 'access log entries'},
        ),
        migrations.AddField(
            model_name='accesslogentry',
            name='error_message',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='accesslogentry',
            name='latency_ms',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(_run(PG_FORWARD, SQLITE_FORWARD), _run(PG_BACKWARD, SQLITE_BACKWARD)),
        migrations.RunPython(_drop_write_permissions, migrations.RunPython.noop),
    ]
