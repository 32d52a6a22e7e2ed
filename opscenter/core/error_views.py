"""The error pages (403, 404, 500, a form refused for its CSRF token, a sign-in locked out) in the site's layout, in
the reader's language; under the API the same errors answer JSON {"code", "detail"} as every other API error does."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from opscenter.core.lockout import lockout_detail, lockout_seconds


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
    navigation, in the language the request was being answered in."""
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
