"""The Content-Security-Policy sent with every response (SPEC section 9).

Why our own middleware and not django-csp: Django 5.2 has no built-in CSP, and our policy is one fixed
string with no nonces or per-view exceptions, because no page needs inline script or style: page behaviour
lives in static/js/ (data-* attributes handled by static/js/app.js), sizes in static/css/app.css, and the
Swagger UI of /api/docs/ loads its init script from its own URL (`SpectacularSwaggerSplitView`) and its page
style from static/css/swagger_ui.css. A dozen lines beat a dependency, its settings and its upgrades;
when we move to Django 6.0, its `SECURE_CSP` setting and `ContentSecurityPolicyMiddleware` replace this file.

A view that really needs a different policy sets the header itself; this middleware leaves it alone.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Bootstrap's and Swagger UI's icons are data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Add CONTENT_SECURITY_POLICY to every response that has no policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
