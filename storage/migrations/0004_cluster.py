# Several servers on one database (issue 12): table versions, the cluster-wide cache
# generation with its PostgreSQL triggers, and the server registry.

from django.db import migrations, models

# PostgreSQL: every committed change of a table or an index row bumps the generation
# and NOTIFYs it. Deferred to commit, so the generation row is locked only for the
# commit itself (a long transaction, such as a restore, holds nobody up) and a
# listener that reloads on the notification sees the committed rows.
PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ddb_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        v bigint;
    BEGIN
        UPDATE ddb_generation SET value = value + 1 WHERE id = 1 RETURNING value INTO v;
        PERFORM pg_notify('extenddb_generation', v::text);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER ddb_table_generation AFTER INSERT OR UPDATE OR DELETE ON ddb_table
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ddb_bump_generation()
    """,
    """
    CREATE CONSTRAINT TRIGGER ddb_index_generation AFTER INSERT OR UPDATE OR DELETE ON ddb_index
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ddb_bump_generation()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS ddb_index_generation ON ddb_index",
    "DROP TRIGGER IF EXISTS ddb_table_generation ON ddb_table",
    "DROP FUNCTION IF EXISTS ddb_bump_generation() CASCADE",
]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)
    return run


def _first_generation(apps, schema_editor) -> None:
    apps.get_model("storage", "ClusterGeneration").objects.using(schema_editor.connection.alias).get_or_create(
        id=1, defaults={"value": 0})


class Migration(migrations.Migration):

    dependencies = [
        ('storage', '0003_stream_key_schema'),
    ]

    operations = [
        migrations.AddField(
            model_name='table',
            name='version',
            field=models.BigIntegerField(db_default=1, default=1),
        ),
        migrations.CreateModel(
            name='ClusterGeneration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.BigIntegerField(default=0)),
            ],
            options={'db_table': 'ddb_generation'},
        ),
        migrations.CreateModel(
            name='Server',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('server_id', models.CharField(max_length=64, unique=True)),
                ('host', models.CharField(max_length=255)),
                ('port', models.IntegerField()),
                ('pid', models.IntegerField()),
                ('version', models.CharField(blank=True, max_length=32)),
                ('started_at', models.FloatField()),
                ('heartbeat_at', models.FloatField()),
                ('leads', models.JSONField(default=list)),
            ],
            options={'db_table': 'ddb_server'},
        ),
        migrations.AddField(
            model_name='accesslogentry',
            name='served_by',
            field=models.CharField(blank=True, default='', max_length=128),
        ),
        migrations.RunPython(_first_generation, migrations.RunPython.noop),
        migrations.RunPython(_run(PG_FORWARD), _run(PG_BACKWARD)),
    ]
