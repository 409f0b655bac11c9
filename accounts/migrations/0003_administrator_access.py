"""The built-in full-access policy, attached to every user that exists at upgrade time.

Before policies existed every active key could do everything; attaching
AdministratorAccess to existing users keeps their applications working.
"""
from django.db import migrations

ADMINISTRATOR_ACCESS = "AdministratorAccess"
DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def create(apps, schema_editor) -> None:
    Policy = apps.get_model("accounts", "Policy")
    IamUser = apps.get_model("accounts", "IamUser")
    policy, _ = Policy.objects.get_or_create(
        name=ADMINISTRATOR_ACCESS,
        defaults={"document": DOCUMENT, "builtin": True,
                  "description": "Full access to every operation and resource (built in)."})
    for user in IamUser.objects.all():
        user.policies.add(policy)


def remove(apps, schema_editor) -> None:
    apps.get_model("accounts", "Policy").objects.filter(name=ADMINISTRATOR_ACCESS, builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_policies")]
    operations = [migrations.RunPython(create, remove)]
