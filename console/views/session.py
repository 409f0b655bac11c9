"""Signing in and out, and changing one's own password.

Django's own views: the sign-in form accepts staff accounts only (the admin's
form), django-axes counts failures and locks a user name and address pair,
sign-out is a POST.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from ..access import navigation


class _Login(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = AdminAuthenticationForm
    redirect_authenticated_user = True
    extra_context = {"title": "Sign in to the ExtendDB console"}

    def get_default_redirect_url(self) -> str:
        return str(reverse_lazy("console:dashboard"))


@method_decorator(never_cache, name="dispatch")
class _Password(auth_views.PasswordChangeView):
    template_name = "console/password.html"
    success_url = reverse_lazy("console:dashboard")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": "Change your password",
                "nav": navigation(self.request, "")}

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


login = _Login.as_view()
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("console:login"))
password = _Password.as_view()
