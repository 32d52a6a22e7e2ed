"""Pages of the kernel: the role home page, notifications, preferences (with the user's API tokens), attachment
downloads, health."""

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from opscenter.core import outbox
from opscenter.core.exceptions import OpsCenterError, detail_text
from opscenter.core.forms import PreferencesForm
from opscenter.core.models import Attachment
from opscenter.core.navigation import panels_for
from opscenter.core.notification_kinds import kind_label, with_text
from opscenter.core.services import user_language_set
from opscenter.core.tokens import api_token_revoke, api_tokens_of, api_tokens_revoke_all

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's work: one panel per thing their roles look after."""
    panels = [(panel, panel.context(request)) for panel in panels_for(request.user)]
    return render(request, "core/home.html", {"panels": panels})


def _inbox_filter(data: Any) -> dict[str, str]:
    return {"event": data.get("kind", "")[:64], "ticket": data.get("ticket", "")[:24]}


def _has_unread(groups: dict[str, list[dict[str, Any]]], chosen: dict[str, str]) -> bool:
    """Whether the list as filtered holds unread notifications, read off the counts (a ticket beyond the ten
    counted is taken to)."""
    kinds = [g for g in groups["kinds"] if not chosen["event"] or g["key"] == chosen["event"]]
    if not any(g["unread"] for g in kinds):
        return False
    if chosen["ticket"]:
        ticket = next((g for g in groups["tickets"] if g["key"] == chosen["ticket"]), None)
        return ticket is None or bool(ticket["unread"])
    return True


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, filtered by kind and ticket, counted by both beside."""
    chosen = _inbox_filter(request.GET)
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(outbox.inbox_filtered(request.user, unread=unread_only, **chosen), 25).get_page(
        request.GET.get("page"))
    page.object_list = with_text(page.object_list)
    groups = outbox.inbox_groups(request.user)
    return render(request, "core/notifications.html", {
        "page": page, "groups": groups, "chosen_kind": chosen["event"], "chosen_ticket": chosen["ticket"],
        "chosen_kind_label": kind_label(chosen["event"]) if chosen["event"] else "",
        "unread_only": unread_only, "filtered": bool(chosen["event"] or chosen["ticket"] or unread_only),
        "has_unread": _has_unread(groups, chosen),
        "query": urlencode({k: v for k, v in (("kind", chosen["event"]), ("ticket", chosen["ticket"]),
                                               ("unread", "1" if unread_only else "")) if v}),
    })


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification, the ones of a kind or ticket, or all of them read; another user's are refused."""
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    try:
        outbox.mark_read(request.user, ids, **_inbox_filter(request.POST))
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("notifications")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's own settings: the language of their pages and notifications; their API tokens, to revoke."""
    form = PreferencesForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_language_set(request.user, language=language)
        with translation.override(language or settings.LANGUAGE_CODE):  # said in the language just chosen
            messages.success(request, _("Your preferences are saved."))
        response = redirect("preferences")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language or settings.LANGUAGE_CODE,
                            max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
                            samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response
    return render(request, "core/preferences.html", {"form": form, "api_tokens": api_tokens_of(request.user)},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def api_tokens_revoke(request: HttpRequest) -> HttpResponse:
    """Revoke one of the user's API tokens (`key`) or all of them (`all`); another user's key revokes nothing."""
    if request.POST.get("all"):
        count = api_tokens_revoke_all(user=request.user)
        messages.success(request, ngettext("%(count)d API token revoked.", "%(count)d API tokens revoked.",
                                           count) % {"count": count})
        return redirect("preferences")
    try:
        api_token_revoke(user=request.user, key=request.POST.get("key", "")[:64])
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
    else:
        messages.success(request, _("The API token is revoked: requests made with it are refused."))
    return redirect("preferences")


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, and a signed-in user's choice remembered for them (pages and notifications)."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(request.user, language=language)
    return response


def search_response(found: list[dict[str, Any]]) -> JsonResponse:
    """A search box's answer (static/js/search-select.js) for tickets found by `selectors.ticket_search`."""
    return JsonResponse({"results": [{"id": row["pk"], "text": f"{row['number']} {row['title']}"} for row in found]})


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Serve a ticket's file as a download, only to users who may see the ticket."""
    attachment = get_object_or_404(Attachment.objects.select_related("content_type"), pk=pk)
    model = attachment.content_type.model_class()
    manager = getattr(model, "_default_manager", None)
    if manager is None or not hasattr(manager, "visible_to"):
        raise Http404
    if not manager.visible_to(request.user).filter(pk=attachment.object_id).exists():
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability, for load balancers and the smoke test."""
    checks = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        from opscenter.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)

