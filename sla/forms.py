"""Forms of the service level pages: explaining a breach and publishing a month's evaluation."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.forms import apply_service_errors
from opscenter.core.models import User

__all__ = ["BreachExplainForm", "PublishForm", "apply_service_errors"]


def it_staff() -> Any:
    """Active IT staff, who may own a corrective action."""
    return (User.objects.filter(is_active=True, groups__name__in=roles.IT_STAFF).distinct()
            .order_by("display_name", "username"))


class BreachExplainForm(forms.Form):
    """Why a target was missed, and the corrective action with its owner and due date (說明原因, 改進措施)."""

    explanation = forms.CharField(label=_("Why the target was missed"), widget=forms.Textarea(attrs={"rows": 2}))
    corrective_action = forms.CharField(label=_("Corrective action"), widget=forms.Textarea(attrs={"rows": 2}))
    action_owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    action_due = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, owners: list[User] | None = None, **kwargs: Any) -> None:
        """`owners`: the IT staff to choose from, read once for every form of a page."""
        super().__init__(*args, **kwargs)
        self.owners = {u.pk: u for u in (owners if owners is not None else it_staff())}
        self.fields["action_owner"].choices = [("", "—"), *((pk, str(u)) for pk, u in self.owners.items())]

    def clean_action_owner(self) -> User:
        return self.owners[self.cleaned_data["action_owner"]]


class PublishForm(forms.Form):
    """The summary the department reads with its figures."""

    summary = forms.CharField(label=_("Summary for the department"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
