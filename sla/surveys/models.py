"""Satisfaction (用戶滿意度調查) data and its state machines: the survey policy, surveys on resolved incidents and
the follow-ups of their low scores, periodic questionnaire campaigns with their questions, invitations and
answers. The models belong to the sla app (its label, tables and migrations); sla.models re-exports them."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from opscenter.core.workflow import condition, supervisors_only
from sla.choices import CampaignState, FollowUpState, QuestionKind, SurveyState


class SurveyPolicy(models.Model):
    """How satisfaction surveys on resolved incidents are sent (one row, edited in the admin)."""

    delay_minutes = models.PositiveIntegerField(_("send after (minutes)"), default=60)
    sampling_percent = models.PositiveSmallIntegerField(
        _("sampling rate (%)"), default=100, validators=[MinValueValidator(0), MaxValueValidator(100)])
    quiet_days = models.PositiveSmallIntegerField(_("quiet period per person (days)"), default=7)
    valid_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=14)
    low_score = models.PositiveSmallIntegerField(
        _("low score at or below"), default=2, validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("A comment is required and the supervisor gets a follow-up."))

    class Meta:
        app_label = "sla"
        verbose_name = _("survey policy")
        verbose_name_plural = _("survey policy")

    def __str__(self) -> str:
        return str(_("Survey policy"))

    @classmethod
    def current(cls) -> "SurveyPolicy":
        policy = cls.objects.order_by("pk").first()
        return policy or cls.objects.create()


# --- Surveys on resolved incidents ----------------------------------------------------------------------


@condition(_("This link has expired."))
def link_is_valid(survey: "Survey") -> bool:
    """A survey link answers only until it expires (the policy's validity)."""
    return survey.expires_at is None or survey.expires_at > timezone.now()


class Survey(ConcurrentTransitionMixin, models.Model):
    """A satisfaction survey sent to the reporter of a resolved incident, answered once through a signed link.

    Every transition is the system's: the sweep sends and expires surveys (in bulk), and the respondent's
    signed link answers one (sla.surveys.services.survey_answer); nobody takes them by hand."""

    STATE_FIELD = "state"

    incident = models.OneToOneField("incidents.Incident", verbose_name=_("incident"), on_delete=models.CASCADE,
                                    related_name="survey")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("respondent"), on_delete=models.PROTECT,
                                   related_name="surveys")
    department = models.ForeignKey("core.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("core.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    service = models.ForeignKey("core.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    state = FSMField(_("state"), max_length=10, choices=SurveyState.choices, default=SurveyState.PENDING,
                     protected=True)
    send_after = models.DateTimeField(_("send after"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True,
                                             validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        app_label = "sla"
        ordering = ["-send_after"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [models.Index(fields=["state", "send_after"], name="survey_to_send"),
                   models.Index(fields=["department", "answered_at"], name="survey_department")]

    def __str__(self) -> str:
        return f"{self.incident_id} · {self.respondent}"

    @transition(field=state, source=SurveyState.PENDING, target=SurveyState.SENT,
                custom={"label": _("Send"), "internal": True})
    def send(self, *, by: Any, sent_at: datetime, expires_at: datetime) -> None:
        """The sweep sends the signed link once the policy's delay has passed (many at once, by
        opscenter.core.services.perform_bulk_transition)."""
        self.sent_at, self.expires_at = sent_at, expires_at

    @transition(field=state, source=SurveyState.SENT, target=SurveyState.ANSWERED, conditions=[link_is_valid],
                custom={"label": _("Answer"), "internal": True})
    def answer(self, *, by: Any, score: int, comment: str, answered_at: datetime) -> None:
        """The respondent answers once through the signed link, before it expires (the link is the key: no
        role is asked)."""
        self.score, self.comment, self.answered_at = score, comment, answered_at

    @transition(field=state, source=SurveyState.SENT, target=SurveyState.EXPIRED,
                custom={"label": _("Expire"), "internal": True})
    def expire(self, *, by: Any) -> None:
        """A link not answered within its validity expires (the sweep, many at once)."""


class FollowUp(ConcurrentTransitionMixin, models.Model):
    """A low satisfaction score the supervisor follows up with the respondent."""

    STATE_FIELD = "state"

    survey = models.OneToOneField(Survey, verbose_name=_("survey"), on_delete=models.CASCADE,
                                  related_name="follow_up")
    state = FSMField(_("state"), max_length=8, choices=FollowUpState.choices, default=FollowUpState.OPEN,
                     protected=True)
    note = models.TextField(_("what was done"), blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        app_label = "sla"
        ordering = ["state", "-created_at"]
        verbose_name = _("satisfaction follow-up")
        verbose_name_plural = _("satisfaction follow-ups")

    def __str__(self) -> str:
        return f"{self.survey}"

    @transition(field=state, source=FollowUpState.OPEN, target=FollowUpState.DONE,
                permission=supervisors_only(_("Only a supervisor closes satisfaction follow-ups.")),
                custom={"label": _("Close follow-up")})
    def close(self, *, by: Any, note: str) -> None:
        """A supervisor closes the follow-up saying what was done with the respondent."""
        note = (note or "").strip()
        if not note:
            raise ValidationError({"note": _("Say what was done with the respondent.")})
        self.note, self.closed_by, self.closed_at = note, by, timezone.now()


# --- Questionnaire campaigns ----------------------------------------------------------------------------


@condition(_("The campaign must close in the future."))
def closes_in_future(campaign: "Campaign") -> bool:
    """A campaign opens only with time left to answer it."""
    return campaign.closes_at is not None and campaign.closes_at > timezone.now()


@condition(_("Add at least one question before opening the campaign."))
def has_questions(campaign: "Campaign") -> bool:
    """A questionnaire asks at least one question (read from the prefetched questions when a list has them)."""
    return len(campaign.questions.all()) > 0


class Campaign(ConcurrentTransitionMixin, models.Model):
    """A periodic satisfaction questionnaire (問卷調查) sent to the contacts of departments."""

    STATE_FIELD = "state"

    name = models.CharField(_("name"), max_length=160)
    description = models.TextField(_("introduction"), blank=True)
    state = FSMField(_("state"), max_length=8, choices=CampaignState.choices, default=CampaignState.DRAFT,
                     protected=True)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"))
    departments = models.ManyToManyField("core.Department", verbose_name=_("departments"), related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        app_label = "sla"
        ordering = ["-created_at"]
        verbose_name = _("questionnaire campaign")
        verbose_name_plural = _("questionnaire campaigns")

    def __str__(self) -> str:
        return self.name

    @transition(field=state, source=CampaignState.DRAFT, target=CampaignState.OPEN,
                conditions=[closes_in_future, has_questions],
                permission=supervisors_only(_("Only a supervisor manages questionnaire campaigns.")),
                custom={"label": _("Open and send invitations")})
    def open(self, *, by: Any) -> None:
        """A supervisor opens a draft: its departments' contacts are invited (by sla.surveys.services.campaign_open,
        which refuses a campaign nobody would receive)."""
        self.opens_at = timezone.now()

    @transition(field=state, source=CampaignState.OPEN, target=CampaignState.CLOSED,
                permission=supervisors_only(_("Only a supervisor manages questionnaire campaigns.")),
                custom={"label": _("Close")})
    def close(self, *, by: Any) -> None:
        """A supervisor closes an open campaign: its links stop working and its results are final."""

    @transition(field=state, source=CampaignState.OPEN, target=CampaignState.CLOSED,
                custom={"label": _("Close at its closing time"), "internal": True})
    def expire(self, *, by: Any) -> None:
        """An open campaign closes by itself at its closing time (the sweep, many at once)."""


class CampaignQuestion(models.Model):
    """A question of a campaign, optionally about one team or one service (results are shown per each)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="questions")
    text = models.CharField(_("question"), max_length=255)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind.choices, default=QuestionKind.SCORE)
    team = models.ForeignKey("core.Team", verbose_name=_("about team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("core.Service", verbose_name=_("about service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    required = models.BooleanField(_("required"), default=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        app_label = "sla"
        ordering = ["campaign", "ordering", "pk"]
        verbose_name = _("campaign question")
        verbose_name_plural = _("campaign questions")

    def __str__(self) -> str:
        return self.text


class CampaignInvitation(models.Model):
    """A department contact asked to answer a campaign, once, through a signed link."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="invitations")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("respondent"), on_delete=models.PROTECT,
                                   related_name="+")
    department = models.ForeignKey("core.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        app_label = "sla"
        ordering = ["campaign", "department", "pk"]
        verbose_name = _("campaign invitation")
        verbose_name_plural = _("campaign invitations")
        constraints = [models.UniqueConstraint(fields=["campaign", "respondent"], name="campaign_invitation_once")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.respondent}"


class CampaignAnswer(models.Model):
    """One answer of one invitation to one question."""

    invitation = models.ForeignKey(CampaignInvitation, verbose_name=_("invitation"), on_delete=models.CASCADE,
                                   related_name="answers")
    question = models.ForeignKey(CampaignQuestion, verbose_name=_("question"), on_delete=models.CASCADE,
                                 related_name="answers")
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True,
                                             validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.TextField(_("answer"), blank=True)

    class Meta:
        app_label = "sla"
        ordering = ["invitation", "question"]
        verbose_name = _("campaign answer")
        verbose_name_plural = _("campaign answers")
        constraints = [models.UniqueConstraint(fields=["invitation", "question"], name="campaign_answer_once")]

    def __str__(self) -> str:
        return f"{self.invitation} · {self.question}"
