"""Forms of the swap pages: asking for a swap from a shift, the swaps queue's filter bar, and one form per
transition of a swap."""

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from duty.choices import SwapKind, SwapState
from duty.models import Shift
from duty.swaps import counter_shift_candidates, swap_candidates
from opscenter.core.formatting import local_datetime
from opscenter.core.forms import (
    ConfirmForm,
    DateTimeLocalInput,
    QueueFilterForm,
    ReasonForm,
    StyledForm,
    TransitionForm,
    textarea,
)
from opscenter.core.models import User


class ColleagueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.username})"


class CounterShiftChoiceField(forms.ModelChoiceField):
    """A colleague's shift, named by its holder and its time (in the time zone the page is shown in)."""

    def label_from_instance(self, obj: Shift) -> str:
        return f"{obj.user} · {local_datetime(obj.start)} – {local_datetime(obj.end)}"


class SwapRequestForm(StyledForm):
    """Ask for a swap of `shift`: the colleague chooser lists only the people qualified to take it, and for a trade
    their shifts the holder could take in exchange. Times are read in the duty policy's time zone."""

    kind = forms.ChoiceField(label=_("Kind"), choices=SwapKind.choices, initial=SwapKind.GIVE)
    colleague = ColleagueChoiceField(label=_("Colleague"), queryset=User.objects.none(),
                                     empty_label=_("Choose a qualified colleague"))
    part_start = forms.DateTimeField(label=_("Part from"), required=False, widget=DateTimeLocalInput(),
                                     help_text=_("Only a part of the shift: leave both blank to give all of it."))
    part_end = forms.DateTimeField(label=_("Part until"), required=False, widget=DateTimeLocalInput())
    counter_shift = CounterShiftChoiceField(label=_("Shift taken in exchange"), queryset=Shift.objects.none(),
                                            required=False, empty_label=_("For a trade: choose the colleague's shift"))
    reason = forms.CharField(label=_("Reason"), widget=textarea(3), max_length=4000)

    def __init__(self, *args: Any, shift: Shift, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shift = shift
        self.fields["colleague"].queryset = swap_candidates(shift)
        self.fields["counter_shift"].queryset = counter_shift_candidates(shift)

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"kind": data["kind"], "colleague": data["colleague"], "reason": data["reason"],
                "part_start": data.get("part_start"), "part_end": data.get("part_end"),
                "counter_shift": data.get("counter_shift")}


SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "shift": ("shift__start", "pk"),
    "-shift": ("-shift__start", "-pk"),
}


class SwapFilterForm(QueueFilterForm):
    sorts: ClassVar[dict[str, tuple[Any, ...]]] = SORTS
    default_sort = "-created"

    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *SwapState.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *SwapKind.choices])
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("-created", _("Newest first")), ("created", _("Oldest first")),
        ("shift", _("Shift, soonest first")), ("-shift", _("Shift, latest first"))])

    def filter(self, qs: Any) -> Any:
        values = self.values()
        if values.get("state"):
            qs = qs.filter(state=values["state"])
        if values.get("kind"):
            qs = qs.filter(kind=values["kind"])
        return qs


# --- One form per transition ----------------------------------------------------------------------------


class AcceptForm(ConfirmForm):
    submit_label = _("Accept the swap")


class DeclineForm(TransitionForm):
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=textarea(2))
    submit_label = _("Decline the swap")


class ApproveForm(ConfirmForm):
    submit_label = _("Approve: change the roster")


class RejectForm(ReasonForm):
    submit_label = _("Reject the swap")


class CancelForm(ConfirmForm):
    submit_label = _("Cancel the request")


TRANSITION_FORMS = {"accept": AcceptForm, "decline": DeclineForm, "approve": ApproveForm, "reject": RejectForm,
                    "cancel": CancelForm}
FORWARD_TRANSITIONS = ("accept", "approve")
DANGER_TRANSITIONS = ("decline", "reject", "cancel")
