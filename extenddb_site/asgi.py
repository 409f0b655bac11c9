"""ASGI entry point.

DynamoDB requests (POST / with X-Amz-Target) go straight to the lean wire
protocol app; everything else (console, admin, health) goes to Django, and
websockets (the console's live stream tail) to channels' consumers behind the
session authentication the pages use.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extenddb_site.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from console.routing import websocket_urlpatterns  # noqa: E402
from wireapi.app import application as dynamodb_application  # noqa: E402


async def http_router(scope, receive, send):
    if scope["path"] == "/" or any(name == b"x-amz-target" for name, _ in scope["headers"]):
        await dynamodb_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)


application = ProtocolTypeRouter({
    "http": http_router,
    "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    "lifespan": dynamodb_application,
})
