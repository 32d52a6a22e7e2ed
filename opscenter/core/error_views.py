"""The error pages (403, 404, 500, 503, a form refused for its CSRF token, a sign-in locked out) in the site's
layout, in the reader's language; under the API the same errors answer JSON {"code", "detail"} as every other API
error does."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from opscenter.core.lockout import lockout_detail, lockout_seconds

# How long a client is asked to wait before trying again while the database cannot be reached.
RETRY_AFTER_SECONDS = 30
# PostgreSQL's error classes that say the server cannot be reached or takes no more work: connection exceptions,
# insufficient resources (too many connections), operator intervention (shutting down, starting up).
UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
# SQLite's: busy or locked past the busy timeout, the file cannot be read, opened or written.
UNAVAILABLE_SQLITE_CODES = {5, 6, 10, 13, 14}  # BUSY, LOCKED, IOERR, FULL, CANTOPEN


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def _page(request: HttpRequest, template: str, status: int, context: dict | None = None) -> HttpResponse:
    """The page drawn with the request: the navigation for the reader's roles, their language."""
    body = loader.get_template(template).render(context or {}, request)
    return HttpResponse(body, status=status)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: what the reader's roles do not allow, with the reason the view gave when it gave one."""
    reason = str(exception or "")
    if _is_api(request):
        return _api_error("permission_denied", reason or _("You do not have permission to perform this action."), 403)
    return _page(request, "403.html", 403, {"reason": reason})


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: a page or record that does not exist or that the reader may not see (the two read alike)."""
    if _is_api(request):
        return _api_error("not_found", _("Not found."), 404)
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: drawn without the request, so without a query (the database may be what failed): the layout without
    navigation, in the language the request was being answered in. A database that cannot be reached is a 503."""
    if database_unavailable(sys.exception()):
        return service_unavailable(request)
    if _is_api(request):
        return _api_error("server_error", _("The server could not complete the request. Try again in a moment."),
                          500)
    return HttpResponse(loader.get_template("500.html").render({}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a missing or outdated CSRF token (a page left open, a sign-in in another tab)."""
    if _is_api(request):
        return _api_error("csrf_failed", _("The request's CSRF token is missing or out of date."), 403)
    return _page(request, "403_csrf.html", 403)


def sign_in_locked_out(request: HttpRequest, response: HttpResponse | None = None,
                       credentials: dict | None = None) -> HttpResponse:
    """429 for a sign-in refused for its failures (django-axes' AXES_LOCKOUT_CALLABLE; the sign-in page and the
    admin's): why, for how long, and who can lift it."""
    seconds = lockout_seconds()
    if _is_api(request):
        answer = _api_error("locked_out", lockout_detail(), 429)
    else:
        answer = _page(request, "registration/locked_out.html", 429, {"detail": lockout_detail()})
    if seconds:
        answer["Retry-After"] = str(seconds)
    return answer


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After, while the database cannot be reached: drawn without a query, like the 500 page, in the
    request's language (the user's saved one needs the database). Nothing is kept: the first request after the
    database is back is answered as usual (Django drops a connection that failed at the end of the request)."""
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)
    with translation.override(language):
        if _is_api(request):
            response = _api_error("service_unavailable", _("The service is unavailable for a moment: its database "
                                                           "cannot be reached. Try again shortly."), 503)
        else:
            response = HttpResponse(loader.get_template("503.html").render({}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def database_unavailable(exc: BaseException | None) -> bool:
    """The error (or one it was raised from) says the database cannot be reached: a connection refused or lost, a
    server shutting down or full. A query's own failure (a deadlock, a timeout, a missing table) is not one."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError):
            return _connection_level(exc.__cause__)
        exc = exc.__cause__ or exc.__context__
    return False


def _connection_level(driver_error: BaseException | None) -> bool:
    """What the driver's error says: psycopg's SQLSTATE (none when the client could not reach the server) or
    SQLite's result code; an OperationalError without the driver's detail is taken as the connection's."""
    sqlite_code = getattr(driver_error, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return (sqlite_code & 0xFF) in UNAVAILABLE_SQLITE_CODES
    sqlstate = getattr(driver_error, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(UNAVAILABLE_SQLSTATES)
