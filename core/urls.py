from django.contrib.auth import views as auth_views
from django.urls import path

from . import sso, sso_views, views

urlpatterns = [
    path("login/", sso_views.LoginView.as_view(), name="login"),
    # Single sign-on (404 while it is not configured): the IdP redirects back to /oidc/callback/.
    path("oidc/authenticate/", sso.SsoStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", sso.SsoCallbackView.as_view(), name="oidc_authentication_callback"),
    path("sso/groups/", sso_views.sso_groups, name="sso-groups"),
    path("sso/groups/<int:mapping_id>/delete/", sso_views.sso_group_delete, name="sso-group-delete"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jobs/", views.job_index, name="job-list"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/errors.csv", views.job_errors_csv, name="job-errors"),
    path("audit/", views.audit_trail, name="audit-trail"),
    path("settings/api-tokens/", views.api_tokens, name="api-tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
