"""Pages of the kernel: the role home page, notifications, attachment downloads, health."""

import logging

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from opscenter.core import outbox
from opscenter.core.models import Attachment
from opscenter.core.navigation import panels_for

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's work: one panel per thing their roles look after."""
    panels = [(panel, panel.context(request)) for panel in panels_for(request.user)]
    return render(request, "core/home.html", {"panels": panels})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(outbox.inbox(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    outbox.mark_read(request.user, ids)
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("notifications")


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

