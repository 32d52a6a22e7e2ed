"""Forms of the attendance, duty log and handover pages: a log entry (with incidents and changes found by
search), a handover's summary, its acknowledgement, and the duty log's filter bar."""

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from duty.choices import HandoverState, LogKind
from duty.log import changes_visible_to, incidents_visible_to
from incidents.models import Incident
from opscenter.core.forms import (
    ConfirmForm,
    DateInput,
    DateTimeLocalInput,
    QueueFilterForm,
    ReferenceChoiceField,
    SearchSelectMultiple,
    StyledForm,
    textarea,
)
from opscenter.core.models import Team


class TicketChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.number} {obj.title}"


class LogEntryForm(StyledForm):
    """What happened, when, who was told, and the incidents and changes it concerns."""

    kind = forms.ChoiceField(label=_("Kind"), choices=LogKind.choices, initial=LogKind.OTHER)
    occurred_at = forms.DateTimeField(label=_("Time"), required=False, widget=DateTimeLocalInput(),
                                      help_text=_("Leave empty for now."))
    text = forms.CharField(label=_("What happened"), max_length=10000, widget=textarea(3))
    informed = forms.CharField(label=_("Who was informed"), max_length=200, required=False)
    incidents = TicketChoiceField(
        label=_("Incidents"), required=False, queryset=Incident.objects.none(),
        widget=SearchSelectMultiple(reverse_lazy("duty:incident-search")),
        help_text=_("Type a number or words of the title to find an incident."))
    changes = TicketChoiceField(
        label=_("Changes"), required=False, queryset=None,
        widget=SearchSelectMultiple(reverse_lazy("duty:change-search")),
        help_text=_("Type a number or words of the title to find a change."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="log", **kwargs)
        self.fields["incidents"].queryset = incidents_visible_to(user)
        self.fields["changes"].queryset = changes_visible_to(user)


class HandoverForm(StyledForm):
    summary = forms.CharField(
        label=_("Summary"), max_length=20000, widget=textarea(5),
        help_text=_("What the incoming person must know: what happened, what is pending, what to watch. Open "
                    "incidents and changes in progress are carried over automatically."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="handover", **kwargs)


class AcknowledgeForm(ConfirmForm):
    """The incoming person confirms having read the handover and taking over what it carries."""

    confirm = forms.BooleanField(label=_("I have read the handover and take over what it carries over"),
                                 required=True)
    submit_label = _("Acknowledge the handover")


class LogFilterForm(QueueFilterForm):
    """The duty log's filter bar: a team, a day (of the duty policy's zone), a kind. A value that does not
    validate drops only its own filter."""

    team = ReferenceChoiceField(Team.objects.filter(is_active=True), cache_key="duty-log-teams", label=_("Team"),
                                required=False, empty_label=_("All teams"))
    day = forms.DateField(label=_("Day"), required=False, widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *LogKind.choices])



class HandoverFilterForm(QueueFilterForm):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All handovers")), *HandoverState.choices])
    team = ReferenceChoiceField(Team.objects.filter(is_active=True), cache_key="duty-log-teams", label=_("Team"),
                                required=False, empty_label=_("All teams"))

