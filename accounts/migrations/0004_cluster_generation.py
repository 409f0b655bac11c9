# Several servers on one database (issue 12): a committed change of a user, key,
# group, policy or attachment bumps the cluster-wide cache generation (the function
# comes with storage 0004), so every server drops its cached credentials and
# compiled policies. A key's last_used_at (written in batches by the servers
# themselves) is not a change of what a key may do: it bumps nothing.

from django.db import migrations

TABLES = ("accounts_iamuser", "accounts_group", "accounts_policy", "accounts_iamuser_policies",
          "accounts_group_users", "accounts_group_policies")

PG_FORWARD = [
    *(f"""
    CREATE CONSTRAINT TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE ON {table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ddb_bump_generation()
    """ for table in TABLES),
    """
    CREATE CONSTRAINT TRIGGER accounts_accesskey_generation AFTER INSERT OR DELETE ON accounts_accesskey
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ddb_bump_generation()
    """,
    """
    CREATE CONSTRAINT TRIGGER accounts_accesskey_change_generation AFTER UPDATE ON accounts_accesskey
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (to_jsonb(OLD) - 'last_used_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_used_at')
        EXECUTE FUNCTION ddb_bump_generation()
    """,
]
PG_BACKWARD = [f"DROP TRIGGER IF EXISTS {table}_generation ON {table}" for table in TABLES] + [
    "DROP TRIGGER IF EXISTS accounts_accesskey_generation ON accounts_accesskey",
    "DROP TRIGGER IF EXISTS accounts_accesskey_change_generation ON accounts_accesskey",
]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_administrator_access'),
        ('storage', '0004_cluster'),
    ]

    operations = [
        migrations.RunPython(_run(PG_FORWARD), _run(PG_BACKWARD)),
    ]
