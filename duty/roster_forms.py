"""Forms of the roster pages: generate a roster, add or change a shift, accept the findings. They ask what the
services need; the rules (period, overlaps, roles, the past) are the services'."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from duty.models import DUTY_ROLES, DutyPolicy, Roster, Rotation, ShiftType
from duty.periods import shift_times
from opscenter.core.forms import DateInput, DateTimeLocalInput, StyledForm, TransitionForm, textarea
from opscenter.core.models import Team, User


def next_month(today: date) -> tuple[date, date]:
    """The first and last day of the month after `today`'s."""
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


class RotationChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Rotation) -> str:
        return f"{obj.team} · {obj.name} ({obj.get_role_display()})"


class RosterGenerateForm(StyledForm):
    """A team, a period, and the rotations to follow (none ticked: the team's active rotations)."""

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True).order_by("name"))
    first_day = forms.DateField(label=_("First day"), widget=DateInput())
    last_day = forms.DateField(label=_("Last day"), widget=DateInput(),
                               help_text=_("At most 92 days after the first day."))
    rotations = RotationChoiceField(
        label=_("Rotations"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Rotation.objects.filter(is_active=True).select_related("team").order_by("team__name", "name"),
        help_text=_("Leave them all unticked to follow every active rotation of the team."))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data.get("rotations"):
            data.pop("rotations", None)
        return data


def _people() -> QuerySet[User]:
    """People who may be on a shift: active holders of a duty role."""
    return User.objects.filter(is_active=True, groups__name__in=[role for role, _label in DUTY_ROLES]).distinct() \
        .order_by("display_name", "username")


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.username})"


class ShiftForm(StyledForm):
    """A shift of a roster: the person and role, and either a shift type and a day (its usual times) or the start
    and end (in the duty policy's time zone, which the page activates)."""

    user = PersonField(label=_("Person"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=DUTY_ROLES)
    shift_type = forms.ModelChoiceField(label=_("Shift type"), queryset=ShiftType.objects.none(), required=False)
    day = forms.DateField(label=_("Day"), widget=DateInput(), required=False)
    start = forms.DateTimeField(label=_("Starts"), widget=DateTimeLocalInput(), required=False)
    end = forms.DateTimeField(label=_("Ends"), widget=DateTimeLocalInput(), required=False)

    def __init__(self, *args: Any, roster: Roster, with_day: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roster = roster
        self.fields["user"].queryset = _people()
        self.fields["shift_type"].queryset = ShiftType.objects.filter(team_id=roster.team_id, is_active=True)
        if not with_day:
            del self.fields["day"]
            self.fields["start"].required = self.fields["end"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        shift_type, day = data.get("shift_type"), data.get("day")
        if data.get("start") and data.get("end"):
            return data
        if shift_type is not None and day is not None:
            data["start"], data["end"] = shift_times(shift_type, day, DutyPolicy.current().zone)
            return data
        if not self.errors:
            raise forms.ValidationError(_("Give a shift type and a day, or the start and the end."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"person": data["user"], "role": data["role"], "start": data["start"], "end": data["end"],
                "shift_type": data.get("shift_type")}


class AcceptFindingsForm(TransitionForm):
    """The supervisor's note on why the roster may be published with its findings."""

    note = forms.CharField(label=_("Why the findings are acceptable"), widget=textarea(3), max_length=4000)
    data_fields = ("note",)
    submit_label = _("Accept the findings")
