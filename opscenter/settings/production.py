"""Production: gunicorn behind TLS, PostgreSQL and Redis; refuses to start without real secrets."""

from django.core.exceptions import ImproperlyConfigured

from opscenter.settings.base import *  # noqa: F403
from opscenter.settings.base import env, setting

DEBUG = False
SECRET_KEY = setting("SECRET_KEY", env.str, "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-", "django-insecure")) or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters")
ALLOWED_HOSTS = setting("ALLOWED_HOSTS", env.list, [])
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names OpsCenter is served under")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "opscenter.core.storage.StaticFilesStorage"},
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = setting("SECURE_SSL_REDIRECT", env.bool, True)
SECURE_HSTS_SECONDS = setting("SECURE_HSTS_SECONDS", env.int, 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# A load balancer probes /healthz over plain HTTP on loopback: answered there, not redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]

# Content-Security-Policy (django-csp): scripts only from this site's static files, never inline (the pages keep
# their behaviour in static/js/); styles may be inline (Tabler's and the charts' style attributes).
MIDDLEWARE = [*MIDDLEWARE, "csp.middleware.CSPMiddleware"]  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "csp"]  # noqa: F405
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
