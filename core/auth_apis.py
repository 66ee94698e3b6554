"""API login: a token for a username and password, refused (429) while axes has the login locked out; and the
signed-in user's own tokens, listed and revoked."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import ApiToken
from .tokens import TokenLimitReached, token_active, token_create, token_revoke, token_status


class LoginLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class PasswordLoginOff(exceptions.PermissionDenied):
    """PASSWORD_LOGIN=false: no token for a password; sign in with single sign-on and make one on the API tokens
    page."""

    default_code = "password_login_off"
    default_detail = (
        "Password login is switched off on this site: sign in with single sign-on and make a token on the "
        "API tokens page."
    )


class TokenLoginSerializer(AuthTokenSerializer):
    name = serializers.CharField(
        max_length=100, required=False, default="", help_text="A name to tell this token apart, e.g. 'CRM sync'."
    )


class NewTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="The key: shown this once, never stored. Send `Authorization: Token <key>`."
    )
    name = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenLimitError(exceptions.PermissionDenied):
    default_code = "token_limit"


class TokenView(APIView):
    """POST {username, password[, name]} -> a new token, valid API_TOKEN_DAYS days; then send
    `Authorization: Token <token>`. Each call makes a new token (the key is never stored, so an old one cannot be
    given again); list and revoke them under /api/v1/auth/tokens/ or on the "API tokens" page.

    Failed attempts count towards the same lockout as the login page (axes watches `authenticate`).
    """

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = TokenLoginSerializer

    @extend_schema(request=TokenLoginSerializer, responses={200: NewTokenSerializer})
    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN:
            raise PasswordLoginOff()
        serializer = self.serializer_class(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.ValidationError:
            # axes flags the request it was given; DRF passes its own Request to `authenticate`.
            if getattr(request, "axes_locked_out", False):
                raise locked_out() from None
            raise
        try:
            token, key = token_create(
                serializer.validated_data["user"],
                name=serializer.validated_data["name"] or "API login",
                days=settings.API_TOKEN_DAYS,
            )
        except TokenLimitReached as error:
            raise TokenLimitError(str(error)) from None
        return Response({"token": key, "name": token.name, "expires_at": token.expires_at})


class ApiTokenSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "status"]
        read_only_fields = fields

    def get_status(self, token) -> str:
        return token_status(token)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("active", bool, description="Only tokens neither revoked nor expired.")]
    )
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's own API tokens (never their keys, never anyone else's). DELETE revokes one: it stops
    working at once and stays listed as revoked."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # names the model for the schema; get_queryset gives the user's own
    permission_subject = "API tokens"  # what a refused caller is told they may not read (core/permissions.py)

    def get_queryset(self):
        tokens = ApiToken.objects.filter(user=self.request.user)
        if self.request.query_params.get("active", "").lower() in ("1", "true"):
            tokens = token_active(tokens)
        return tokens

    def destroy(self, request, *args, **kwargs):
        token_revoke(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def locked_out() -> LoginLockedOut:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    error = LoginLockedOut(
        f"Too many failed logins: this account is locked for {minutes} minutes from this address. Try again later."
    )
    error.wait = int(settings.AXES_COOLOFF_TIME.total_seconds())
    return error
