"""Swap pages: the queues (waiting for me, mine, all), asking for a swap from a shift, and a swap's detail with
its timeline and actions. Thin: a selector, a form, one service call; refusals are shown on the page with their
HTTP status and change nothing. Times read in the duty policy's time zone."""

from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from duty.models import DutyPolicy, Shift, SwapRequest
from duty.swap_forms import DANGER_TRANSITIONS, FORWARD_TRANSITIONS, TRANSITION_FORMS, SwapFilterForm, SwapRequestForm
from duty.swaps import (
    may_request_swaps,
    swap_list,
    swap_problems,
    swap_queue,
    swap_request,
    swap_transition,
    swappable_shifts,
)
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.forms import apply_service_errors
from opscenter.core.roles import has_role
from opscenter.core.selectors import may_view
from opscenter.core.ticket_views import (
    TicketAttachmentView,
    TicketCommentView,
    TicketDetailView,
    TicketListView,
    TicketTransitionView,
)

QUEUES = {
    "waiting": gettext_lazy("Waiting for me"),
    "mine": gettext_lazy("Mine"),
    "all": gettext_lazy("All"),
}


class DutyPageMixin:
    """A swap page: for those who may read swaps (403 otherwise), shown in the duty policy's time zone."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not may_view(request.user, SwapRequest):
            raise PermissionDenied(_("You may not read shift swaps."))
        with timezone.override(DutyPolicy.current().zone):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SwapListView(DutyPageMixin, TicketListView):
    """The queues: what waits for me (to accept, or to approve), mine, and all of them (supervisors, auditors)."""

    template_name = "duty/swap_list.html"
    queues = QUEUES
    filter_form = SwapFilterForm

    def queues_for(self, user: Any) -> list[str]:
        names = ["waiting", "mine"] if may_request_swaps(user) else []
        if has_role(user, roles.SUPERVISOR, roles.AUDITOR):
            names.append("all")
        return names or ["mine"]

    def rows(self, form: SwapFilterForm, user: Any, queue: str) -> Any:
        return form.order(form.filter(swap_queue(user=user, queue=queue)))

    def extra_context(self, user: Any) -> dict[str, Any]:
        return {"my_shifts": list(swappable_shifts(user)) if may_request_swaps(user) else []}


swap_list_page = SwapListView.as_view()


class SwapDetailView(DutyPageMixin, TicketDetailView):
    """A swap: what is given and taken, why it may no longer be possible, its actions and its timeline."""

    model = SwapRequest
    template_name = "duty/swap_detail.html"
    transition_forms = TRANSITION_FORMS
    forward_transitions = FORWARD_TRANSITIONS
    danger_transitions = DANGER_TRANSITIONS
    created_label = gettext_lazy("Requested")

    def get_object(self, user: Any, pk: int) -> SwapRequest:
        return swap_list(user=user).get(pk=pk)

    def perform(self, obj: SwapRequest, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> SwapRequest:
        return swap_transition(obj, name, user=user, comment=comment, data=data)

    def detail_context(self, obj: SwapRequest, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        start, end = obj.window()
        return {"swap": obj, "given_start": start, "given_end": end,
                "is_part": bool(obj.part_start or obj.part_end),
                "problems": [] if obj.is_read_only else swap_problems(obj)}


class SwapTransitionView(SwapDetailView, TicketTransitionView):
    http_method_names: ClassVar[list[str]] = ["post"]


class SwapCommentView(SwapDetailView, TicketCommentView):
    http_method_names: ClassVar[list[str]] = ["post"]


class SwapAttachmentView(SwapDetailView, TicketAttachmentView):
    http_method_names: ClassVar[list[str]] = ["post"]


swap_detail = SwapDetailView.as_view()
swap_transition_page = SwapTransitionView.as_view()
swap_comment = SwapCommentView.as_view()
swap_attachment = SwapAttachmentView.as_view()


class SwapRequestView(DutyPageMixin, LoginRequiredMixin, View):
    """Ask for a swap of one shift: its holder, or a supervisor acting for them."""

    template_name = "duty/swap_request.html"

    def get_shift(self, user: Any, pk: int) -> Shift:
        try:
            shift = Shift.objects.visible_to(user).select_related("team", "user", "roster").get(pk=pk)
        except Shift.DoesNotExist:
            raise Http404 from None
        if not may_request_swaps(user) or (shift.user_id != user.pk and not has_role(user, roles.SUPERVISOR)):
            raise PermissionDenied(_("You may only offer your own shifts (a supervisor may act for someone)."))
        return shift

    def show(self, request: HttpRequest, shift: Shift, form: SwapRequestForm, status: int = 200) -> HttpResponse:
        return render(request, self.template_name, {
            "shift": shift, "form": form, "on_behalf": shift.user_id != request.user.pk,
            "lead_hours": DutyPolicy.current().swap_lead_hours}, status=status)

    def get(self, request: HttpRequest, shift: int) -> HttpResponse:
        row = self.get_shift(request.user, shift)
        return self.show(request, row, SwapRequestForm(shift=row))

    def post(self, request: HttpRequest, shift: int) -> HttpResponse:
        row = self.get_shift(request.user, shift)
        form = SwapRequestForm(request.POST, shift=row)
        if not form.is_valid():
            messages.error(request, _("Please correct the fields marked below."))
            return self.show(request, row, form, status=400)
        try:
            swap = swap_request(by=request.user, shift=row, **form.service_arguments())
        except InvalidInput as exc:
            apply_service_errors(form, exc.detail)
            messages.error(request, _("Please correct the fields marked below."))
            return self.show(request, row, form, status=exc.status_code)
        except OpsCenterError as exc:
            messages.error(request, detail_text(exc.detail))
            return self.show(request, row, form, status=exc.status_code)
        messages.success(request, _("Your swap request was sent to %(colleague)s.") % {"colleague": swap.colleague})
        return redirect("duty:swaprequest-detail", swap.pk)


swap_request_page = SwapRequestView.as_view()
