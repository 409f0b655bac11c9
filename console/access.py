"""Who may open a console page, and how a page is rendered (navigation, no caching).

Pages need staff status (else the sign-in page) and the Django permissions
they name (else 403). What an administrator may do to data is decided again,
call by call, by wireapi.authz (console.calls, console.grants): these
checks decide which pages and buttons are offered.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers


@dataclass(frozen=True)
class Section:
    label: str
    url_name: str
    permission: str | None  # a Django permission, "staff" (any administrator) or "superuser"


# The one navigation, in the order an administrator's day goes.
SECTIONS = (
    Section("Dashboard", "console:dashboard", "staff"),
    Section("Tables", "console:tables", "storage.view_table"),
    Section("PartiQL", "console:partiql", "storage.view_table"),
    Section("Streams", "console:streams", "storage.view_table"),
    Section("Backups", "console:backups", "storage.view_table"),
    Section("Imports and exports", "console:transfers", "storage.view_table"),
    Section("Users and groups", "console:users", "accounts.view_iamuser"),
    Section("Policies", "console:policies", "accounts.view_policy"),
    Section("Access keys", "console:keys", "accounts.view_accesskey"),
    Section("Access log", "console:access_log", "storage.view_accesslogentry"),
    Section("Administrators", "console:administrators", "auth.view_user"),
    Section("Settings", "console:settings", "staff"),
)


def _allowed(user, permission: str | None) -> bool:
    if permission in (None, "staff"):
        return True
    if permission == "superuser":
        return user.is_superuser
    return user.has_perm(permission)


def needs(*permissions: str) -> Callable:
    """An async view for staff with every listed Django permission."""
    def wrap(view: Callable) -> Callable:
        @wraps(view)
        async def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = await request.auser()
            if not (user.is_active and user.is_staff):
                return redirect_to_login(request.get_full_path(), reverse("console:login"))
            for permission in permissions:
                if not await sync_to_async(_allowed)(user, permission):
                    raise PermissionDenied
            return await view(request, *args, **kwargs)
        return checked
    return wrap


def navigation(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    user = request.user
    return [{"label": s.label, "url": reverse(s.url_name), "current": s.label == current,
             "id": "nav-" + s.label.lower().replace(" ", "-")}
            for s in SECTIONS if _allowed(user, s.permission)]


def render_page(request: HttpRequest, template: str, context: dict[str, Any], section: str,
                status: int = 200) -> HttpResponse:
    full = {"nav": navigation(request, section), "section": section, **context}
    response = render(request, f"console/{template}", full, status=status)
    add_never_cache_headers(response)  # table data and keys must not linger in caches
    return response


async def page(request: HttpRequest, template: str, context: dict[str, Any], section: str,
               status: int = 200) -> HttpResponse:
    await request.auser()  # loaded here, so the template's sync access needs no database hop
    return await sync_to_async(render_page)(request, template, context, section, status)
