from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from core.apis import JobViewSet

# Namespaced ("api:account-detail") so API route names never clash with the web pages' names.
app_name = "api"

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")


class TokenView(ObtainAuthToken):
    """POST {username, password} -> {token}; then send `Authorization: Token <token>`."""

    permission_classes = [AllowAny]


urlpatterns = [path("auth/token/", TokenView.as_view(), name="api-token"), *router.urls]
