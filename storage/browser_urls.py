"""URLs of the table browser, mounted under /admin/tables/."""
from django.urls import path

from . import browser, browser_items

app_name = "browser"

urlpatterns = [
    path("", browser.table_list, name="tables"),
    path("create/", browser.table_create, name="create"),
    path("t/<str:name>/", browser.table_detail, name="table"),
    path("t/<str:name>/delete/", browser.table_delete, name="delete"),
    path("t/<str:name>/query/", browser.table_query, name="query"),
    path("t/<str:name>/item/", browser_items.item_detail, name="item"),
    path("t/<str:name>/item/new/", browser_items.item_create, name="item_new"),
    path("t/<str:name>/item/delete/", browser_items.item_delete, name="item_delete"),
]
