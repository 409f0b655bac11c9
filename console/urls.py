"""The console's URLs, mounted at /console/."""
from django.urls import path

from .views import (access_log, administrators, backups, dashboard, iam, items, keys, partiql, policies,
                    session, site_settings, streams, tables, transfers)

app_name = "console"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", session.login, name="login"),
    path("logout/", session.logout, name="logout"),
    path("password/", session.password, name="password"),
    # tables and items
    path("tables/", tables.table_list, name="tables"),
    path("tables/create/", tables.table_create, name="table_create"),
    path("tables/<str:name>/", tables.table_detail, name="table"),
    path("tables/<str:name>/settings/", tables.table_settings, name="table_settings"),
    path("tables/<str:name>/delete/", tables.table_delete, name="table_delete"),
    path("tables/<str:name>/items/", items.items, name="items"),
    path("tables/<str:name>/items/delete/", items.items_delete, name="items_delete"),
    path("tables/<str:name>/item/", items.item_detail, name="item"),
    path("tables/<str:name>/item/new/", items.item_create, name="item_new"),
    path("tables/<str:name>/item/delete/", items.item_delete, name="item_delete"),
    path("partiql/", partiql.editor, name="partiql"),
    path("streams/", streams.stream_list, name="streams"),
    path("streams/<str:name>/", streams.tail, name="stream_tail"),
    path("backups/", backups.backups, name="backups"),
    path("transfers/", transfers.transfers, name="transfers"),
    # identities
    path("users/", iam.users, name="users"),
    path("users/<str:user_name>/", iam.user_detail, name="user"),
    path("groups/<str:group_name>/", iam.group_detail, name="group"),
    path("policies/", policies.policy_list, name="policies"),
    path("policies/new/", policies.policy_edit, name="policy_new"),
    path("policies/validate/", policies.validate, name="policy_validate"),
    path("policies/simulate/", policies.simulate, name="policy_simulate"),
    path("policies/<str:policy_name>/", policies.policy_edit, name="policy"),
    path("keys/", keys.key_list, name="keys"),
    path("keys/create/", keys.key_create, name="key_create"),
    path("keys/<str:key_id>/", keys.key_action, name="key_action"),
    path("access-log/", access_log.access_log, name="access_log"),
    path("access-log/export.csv", access_log.export, name="access_log_export"),
    path("administrators/", administrators.administrators, name="administrators"),
    path("settings/", site_settings.settings_page, name="settings"),
]
