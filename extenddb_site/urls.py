from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    # The human interface; Django's raw model admin stays at /admin/.
    path("console/", include("console.urls")),
    path("admin/", admin.site.urls),
    # Operators' endpoints (docs/operations.md): liveness, readiness, Prometheus.
    path("health", views.health),
    path("ready", views.ready),
    path("metrics", views.metrics),
    # The console's and the admin's CSS and JS, found in the installed apps (no
    # collectstatic step); only their pages load them, so their volume is small.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]
