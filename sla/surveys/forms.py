"""Forms of the satisfaction pages: answering a survey or a questionnaire, closing a follow-up, drafting a
campaign with its questions. Forms only collect input; sla.surveys decides."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opscenter.core.forms import DATETIME_LOCAL, DateTimeLocalInput, StyledForm
from opscenter.core.models import Department, Service, Team
from sla.choices import QuestionKind
from sla.surveys.models import CampaignQuestion

SCORE_CHOICES = [(5, _("5 · Very satisfied")), (4, _("4 · Satisfied")), (3, _("3 · Neutral")),
                 (2, _("2 · Dissatisfied")), (1, _("1 · Very dissatisfied"))]


class ScoreRadio(forms.RadioSelect):
    """Score buttons, drawn large and thumb-friendly by the answer templates."""


class LinkAnswerForm(forms.Form):
    """An answer given through a signed link; the service's refusals go on the fields they name."""

    def field_for(self, key: Any) -> str | None:
        return key if key in self.fields else None

    def apply_errors(self, detail: Any) -> None:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        for key, messages in (detail.items() if isinstance(detail, dict) else [(None, detail)]):
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                self.add_error(self.field_for(key), str(message))


class SurveyAnswerForm(LinkAnswerForm):
    """Score 1–5 and a comment (required for low scores: the service says at which score)."""

    score = forms.TypedChoiceField(label=_("How satisfied are you with how your fault was handled?"),
                                   choices=SCORE_CHOICES, coerce=int, widget=ScoreRadio)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}))


class CampaignAnswerForm(LinkAnswerForm):
    """One field per question of the campaign, named q_<id>."""

    def __init__(self, *args: Any, questions: list[CampaignQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            label = question.text
            if question.kind == QuestionKind.SCORE:
                field: forms.Field = forms.TypedChoiceField(label=label, choices=SCORE_CHOICES, coerce=int,
                                                            widget=ScoreRadio, required=question.required)
            else:
                field = forms.CharField(label=label, required=question.required, max_length=4000,
                                        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))
            field.question = question
            self.fields[f"q_{question.pk}"] = field

    def field_for(self, key: Any) -> str | None:
        """The service names questions by id."""
        return f"q_{key}" if f"q_{key}" in self.fields else None


class FollowUpCloseForm(StyledForm):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class CampaignForm(StyledForm):
    """The campaign itself: name, introduction, departments and closing time."""

    name = forms.CharField(label=_("Name"), max_length=160)
    description = forms.CharField(label=_("Introduction"), required=False, widget=forms.Textarea)
    closes_at = forms.DateTimeField(label=_("Closes at"), widget=DateTimeLocalInput(),
                                    input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"])
    departments = forms.ModelMultipleChoiceField(label=_("Departments"), queryset=Department.objects.filter(
        is_active=True), widget=forms.SelectMultiple(attrs={"size": 6}))

    def clean_closes_at(self) -> Any:
        value = self.cleaned_data["closes_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("The campaign must close in the future."))
        return value


class QuestionForm(StyledForm):
    """One question: its text, a score or free text, optionally about a team or a service."""

    text = forms.CharField(label=_("Question"), max_length=255, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices, initial=QuestionKind.SCORE)
    team = forms.ModelChoiceField(label=_("About team"), queryset=Team.objects.filter(is_active=True),
                                  required=False)
    service = forms.ModelChoiceField(label=_("About service"), queryset=Service.objects.filter(is_active=True),
                                     required=False)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)


QuestionFormSet = forms.formset_factory(QuestionForm, extra=5, max_num=30)


def question_data(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The questions given (rows left empty are skipped)."""
    return [form.cleaned_data for form in formset.forms
            if form.is_valid() and (form.cleaned_data.get("text") or "").strip()]
