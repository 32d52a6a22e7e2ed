"""Admin of duty."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from duty.models import SwapRequest
from duty.swaps import OPEN_STATES, SWAP_RELATIONS, swap_problems, swap_transition
from opscenter.core.admin import ReasonForm, ServiceErrorsAsMessages, TransitionAdminMixin, TransitionForm
from opscenter.core.formatting import local_minute

# --- swap (調班) -----------------------------------------------------------------------------------------


@admin.register(SwapRequest)
class SwapRequestAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """Shift swaps: read as they were asked, decided with the decision panel (the facts, why it may no longer be
    possible, approve or reject); every transition goes through duty.swaps, which changes the roster."""

    fsm_forms = {"accept": TransitionForm, "decline": TransitionForm, "approve": TransitionForm,
                 "reject": ReasonForm, "cancel": TransitionForm}
    decision_template = "admin/duty/swaprequest/decision.html"
    decision_title = _("Swap decision")
    decision_transitions = ("approve", "reject")
    danger_transitions = ("reject",)
    list_display = ["__str__", "kind", "state", "given", "expires_at", "created_by", "decided_by"]
    list_select_related = SWAP_RELATIONS
    list_filter = ["state", "kind"]
    search_fields = ["requester__username", "colleague__username", "reason"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["kind", "state", "requester", "colleague", "shift", "part_start", "part_end", "counter_shift", "reason",
              "created_by", "created_at", "expires_at", "decided_by", "decided_at", "timeline"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user).select_related(*SWAP_RELATIONS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # asked for on the shift's page or through the API (duty.swaps.swap_request)

    def has_delete_permission(self, request: HttpRequest, obj: SwapRequest | None = None) -> bool:
        return False  # a swap and its timeline are records of who agreed and who approved

    def perform(self, obj: SwapRequest, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> SwapRequest:
        return swap_transition(obj, name, user=user, comment=comment, data=data)

    def decision_context(self, request: HttpRequest, obj: SwapRequest) -> dict[str, Any] | None:
        if obj.state not in OPEN_STATES:
            return None
        start, end = obj.window()
        return {"swap": obj, "given_start": start, "given_end": end, "problems": swap_problems(obj)}

    @admin.display(description=_("time given"))
    def given(self, obj: SwapRequest) -> str:
        start, end = obj.window()
        return f"{local_minute(start)} – {local_minute(end)}"
