"""Websocket routes of the console (extenddb_site.asgi mounts them)."""
from django.urls import path

from .consumers import StreamTail

websocket_urlpatterns = [
    path("console/ws/streams/<str:name>/", StreamTail.as_asgi()),
]
