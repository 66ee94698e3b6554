from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on pages that name no icon (the API docs, files): the one icon answers. Its
    address is read per request, so a hashed name from collectstatic is found once the manifest exists."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.svg")


urlpatterns = [
    path("", include("insights.home_urls")),
    path("", include("core.urls")),
    path("accounts/", include("accounts.urls")),
    path("territories/", include("territories.urls")),
    path("territories/", include("handoffs.sla_urls")),  # the SLA policies, edited beside the territories
    path("", include("handoffs.urls")),  # /queue/ and /handoffs/
    path("scoring/", include("segmentation.urls")),
    path("scoring/", include("insights.recalibration_urls")),
    path("scoring/", include("insights.backtest_urls")),
    path("tiers/", include("segmentation.tier_urls")),
    path("kpis/", include("insights.shadow_urls")),  # before the KPI pages: "shadow" is no KPI key
    path("kpis/", include("insights.urls")),
    path("integrations/", include("integrations.urls")),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its init script from /api/docs/?script instead of inline: see core/csp.py.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="core/swagger_ui.html"),
        name="api-docs",
    ),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
