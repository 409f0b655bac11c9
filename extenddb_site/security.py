"""Response headers for everything Django serves (the console and the admin).

Django 5.2 sets HSTS, nosniff, Referrer-Policy and X-Frame-Options itself
(SecurityMiddleware, XFrameOptionsMiddleware); this adds the
Content-Security-Policy, which Django only gains in 6.0, and refuses the admin
on the loopback plaintext listener (`serve --plaintext-port`): sign-ins and
secrets travel over TLS only. The DynamoDB endpoint never passes through here
(extenddb_site.asgi routes it around Django).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

_HTTPS_ONLY = ("/admin/", "/console/", "/static/")


class SecurityHeadersMiddleware:
    # Async-capable, so async views (the console) stay on the worker's event loop.
    async_capable = True
    sync_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]) -> None:
        self.get_response = get_response
        self.policy = settings.EXTENDDB_CONTENT_SECURITY_POLICY
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self._headers(self._refusal(request) or self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._headers(self._refusal(request) or await self.get_response(request))

    @staticmethod
    def _refusal(request: HttpRequest) -> HttpResponse | None:
        if not request.is_secure() and request.path.startswith(_HTTPS_ONLY):
            return HttpResponseForbidden("The admin is served over HTTPS only.", content_type="text/plain")
        return None

    def _headers(self, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
