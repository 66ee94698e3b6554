"""The login page (password and/or single sign-on) and the admins' page that maps IdP groups to roles."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from .decorators import admin_only
from .models import SsoGroupRole
from .roles import ROLE_LABELS, ROLES

SSO_ONLY_MESSAGE = "Password login is switched off on this site: sign in with single sign-on."


class LoginView(auth_views.LoginView):
    """Django's login page, with the single sign-on button when it is configured; without the password form (and
    refusing a posted password) when PASSWORD_LOGIN is false."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN:
            context = self.get_context_data(form=None, refused=SSO_ONLY_MESSAGE)
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = settings.SSO_ENABLED
        context["password_login"] = settings.PASSWORD_LOGIN
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context


class MappingForm(forms.ModelForm):
    group = forms.CharField(
        label="IdP group",
        max_length=200,
        error_messages={"required": "Enter the group's name as the identity provider sends it."},
        help_text="Exactly as the identity provider sends it in the groups claim (case matters).",
    )
    role = forms.ChoiceField(
        label="Role",
        choices=[("", "Choose a role…"), *((role, ROLE_LABELS[role]) for role in ROLES)],
        error_messages={"required": "Choose the role that members of this group get."},
    )

    class Meta:
        model = SsoGroupRole
        fields = ["group", "role"]

    def clean(self):
        data = super().clean()
        group, role = data.get("group"), data.get("role")
        if group and role and SsoGroupRole.objects.filter(group=group, role=role).exists():
            raise forms.ValidationError(f"Members of “{group}” already get the role {ROLE_LABELS[role]}.")
        return data

    def validate_unique(self):
        pass  # clean() says it in words; the database constraint still holds


@admin_only
@require_http_methods(["GET", "POST"])
def sso_groups(request):
    """Which IdP groups give which role; add a mapping."""
    form = MappingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        mapping = form.save()
        messages.success(
            request,
            f"Members of “{mapping.group}” get the role {ROLE_LABELS[mapping.role]} from their next sign-in.",
        )
        return redirect("sso-groups")
    mappings = [(mapping, ROLE_LABELS.get(mapping.role, mapping.role)) for mapping in SsoGroupRole.objects.all()]
    context = {
        "form": form,
        "mappings": mappings,
        "sso_enabled": settings.SSO_ENABLED,
        "password_login": settings.PASSWORD_LOGIN,
        "groups_claim": settings.OIDC_GROUPS_CLAIM,
    }
    return render(request, "core/sso_groups.html", context)


@admin_only
@require_http_methods(["GET", "POST"])
def sso_group_delete(request, mapping_id: int):
    """Ask first; a POST deletes. Members keep the role until their next sign-in."""
    mapping = get_object_or_404(SsoGroupRole, pk=mapping_id)
    label = ROLE_LABELS.get(mapping.role, mapping.role)
    if request.method == "POST":
        mapping.delete()
        messages.success(
            request, f"“{mapping.group}” no longer gives the role {label}: its members lose it at their next sign-in."
        )
        return redirect("sso-groups")
    return render(request, "core/sso_group_confirm_delete.html", {"mapping": mapping, "role_label": label})
