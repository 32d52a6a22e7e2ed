"""Operations of satisfaction (用戶滿意度調查): surveys on resolved incidents — scheduled by the survey policy,
sent by the beat sweep with a signed one-time link, answered without signing in, low scores followed up by
supervisors — and periodic questionnaire campaigns to department contacts. Every change of state goes through
the kernel's perform_transition (one row) or perform_bulk_transition (a sweep)."""

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.choices import State
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.choices import Channel
from opscenter.core.exceptions import InvalidInput, OpsCenterError, TransitionForbidden
from opscenter.core.models import Department, User
from opscenter.core.outbox import notify
from opscenter.core.roles import has_role
from opscenter.core.services import perform_bulk_transition, perform_transition
from sla.choices import CampaignState, QuestionKind, SurveyState
from sla.notifications import CAMPAIGN_INVITED, LOW_SCORE, SURVEY_SENT
from sla.surveys.models import (
    Campaign,
    CampaignAnswer,
    CampaignInvitation,
    CampaignQuestion,
    FollowUp,
    Survey,
    SurveyPolicy,
)
from sla.surveys.selectors import department_contacts

SURVEY_SALT = "sla.survey.answer"
CAMPAIGN_SALT = "sla.campaign.answer"
SEND_BATCH = 200
# A survey goes out only while its incident stays resolved: one reopened meanwhile waits for its next resolution.
SETTLED_STATES = (State.RESOLVED, State.UNDER_REVIEW, State.CLOSED)
SCORES = range(1, 6)


# --- Refusals of the public links --------------------------------------------------------------------


class LinkNotFound(OpsCenterError):
    status_code = 404
    code = "not_found"
    default_detail = gettext_lazy("This link is not valid. Check that it was copied in full.")


class LinkExpired(OpsCenterError):
    status_code = 410
    code = "expired"
    default_detail = gettext_lazy("This link has expired.")


class AlreadyAnswered(OpsCenterError):
    status_code = 409
    code = "already_answered"
    default_detail = gettext_lazy("This has already been answered. Thank you.")


# --- Signed links -------------------------------------------------------------------------------------


def sign(pk: int, *, salt: str) -> str:
    """A token carrying the row's id, signed with the secret key under a salt of its own (so a survey token
    never opens a campaign, nor the reverse)."""
    return signing.dumps(pk, salt=salt)


def unsign(token: str, *, salt: str) -> int:
    """The id a token carries; a forged, tampered or truncated token is 404."""
    try:
        value = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkNotFound() from exc
    if not isinstance(value, int):
        raise LinkNotFound()
    return value


def survey_link(survey: Survey) -> str:
    return reverse("sla:survey-answer", args=[sign(survey.pk, salt=SURVEY_SALT)])


def invitation_link(invitation: CampaignInvitation) -> str:
    return reverse("sla:campaign-answer", args=[sign(invitation.pk, salt=CAMPAIGN_SALT)])


# --- Scheduling a survey when an incident is resolved ------------------------------------------------


def survey_respondent(incident: Incident) -> User | None:
    """Who is asked: the caller; else whoever recorded the incident when they are a department user."""
    if incident.caller_id:
        return incident.caller
    recorder = incident.created_by
    return recorder if has_role(recorder, roles.DEPARTMENT_USER) else None


def sample_bucket(incident: Incident) -> int:
    """A number 0–99 fixed by the incident's number: the same incident is always in or out of the sample,
    whoever resolves it and however often."""
    return int.from_bytes(hashlib.sha256(incident.number.encode()).digest()[:4], "big") % 100


def in_sample(incident: Incident, percent: int, bucket: Callable[[Incident], int] = sample_bucket) -> bool:
    """The sampling rate of the policy: `percent` in 100 incidents are surveyed."""
    return bucket(incident) < percent


def survey_schedule(incident: Incident, *, at: datetime | None = None,
                    bucket: Callable[[Incident], int] = sample_bucket) -> Survey | None:
    """Schedule the satisfaction survey of a resolved incident for its reporter, per the survey policy:
    after the delay, within the sampling rate, outside the person's quiet period; none when the reporter
    resolved it themselves, none twice for one incident."""
    if Survey.objects.filter(incident=incident).exists():
        return None
    respondent = survey_respondent(incident)
    if respondent is None or not respondent.is_active or respondent.pk == incident.resolved_by_id:
        return None
    policy = SurveyPolicy.current()
    if not in_sample(incident, policy.sampling_percent, bucket):
        return None
    send_after = (at or incident.resolved_at or timezone.now()) + timedelta(minutes=policy.delay_minutes)
    quiet_since = send_after - timedelta(days=policy.quiet_days)
    if policy.quiet_days and Survey.objects.filter(respondent=respondent, send_after__gt=quiet_since).exists():
        return None
    return Survey.objects.create(incident=incident, respondent=respondent, department_id=incident.department_id,
                                 team_id=incident.team_id, service_id=incident.service_id, send_after=send_after)


# --- Sending (beat) -----------------------------------------------------------------------------------


def _announce_survey(survey: Survey) -> None:
    # The link is a credential of the respondent: it goes to them alone, never to outbound webhooks.
    notify(kind=SURVEY_SENT, recipients=[survey.respondent],
           params={"survey": survey.pk, "incident": survey.incident.number, "number": survey.incident.number,
                   "title": survey.incident.title, "date": timezone.localdate(survey.expires_at).isoformat()},
           link=survey_link(survey), channels=(Channel.IN_APP, Channel.EMAIL), webhooks=False)


def expire_surveys(*, now: datetime) -> int:
    """Surveys sent and not answered before their link expired move to expired, all at once (`expire`)."""
    return len(perform_bulk_transition(Survey.objects.filter(expires_at__lte=now), "expire"))


def send_due_surveys(*, now: datetime | None = None) -> int:
    """Send every survey whose delay has passed, once: each batch moves by `send` on rows locked in the
    transaction that writes the outbox rows, so a sweep that runs twice, late, or beside another sends each
    survey exactly once. Unanswered links past their validity then expire."""
    now = now or timezone.now()
    valid_days = SurveyPolicy.current().valid_days
    due = (Survey.objects.filter(send_after__lte=now, incident__state__in=SETTLED_STATES)
           .order_by("send_after", "pk"))
    sent = 0
    while True:
        with transaction.atomic():
            ids = perform_bulk_transition(due, "send", limit=SEND_BATCH, data={
                "sent_at": now, "expires_at": now + timedelta(days=valid_days)})
            if not ids:
                break
            for survey in Survey.objects.filter(pk__in=ids).select_related("incident", "respondent"):
                _announce_survey(survey)
            sent += len(ids)
    expire_surveys(now=now)
    return sent


# --- Answering ------------------------------------------------------------------------------------------


def survey_from_token(token: str) -> Survey:
    """The survey a link opens, with its incident (404 for a forged link or one never sent)."""
    survey = (Survey.objects.select_related("incident", "department").filter(pk=unsign(token, salt=SURVEY_SALT))
              .exclude(state=SurveyState.PENDING).first())
    if survey is None:
        raise LinkNotFound()
    return survey


def check_survey_open(survey: Survey, *, now: datetime | None = None) -> None:
    """A link answers once (409 after) and only until it expires (410)."""
    if survey.state == SurveyState.ANSWERED:
        raise AlreadyAnswered()
    if survey.state == SurveyState.EXPIRED or (survey.expires_at and survey.expires_at <= (now or timezone.now())):
        raise LinkExpired()


def survey_to_answer(token: str) -> Survey:
    """The survey a link opens while it can still be answered (404, 409 or 410 otherwise), carrying the
    policy's low score the page explains."""
    survey = survey_from_token(token)
    check_survey_open(survey)
    survey.low_score = SurveyPolicy.current().low_score
    return survey


def _score(value: Any) -> int:
    """A whole score from 1 to 5, given as a number or as its digit."""
    text = str(value).strip()
    if text not in {str(score) for score in SCORES}:
        raise InvalidInput({"score": [_("Choose a score from 1 to 5.")]})
    return int(text)


def supervisors() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name=roles.SUPERVISOR).distinct()


def survey_answer(*, token: str, score: Any, comment: str = "", now: datetime | None = None) -> Survey:
    """Record the answer of a survey link, once: score 1–5, with a comment at or below the policy's low
    score; a low score opens a follow-up for the supervisors and tells them."""
    now = now or timezone.now()
    survey = survey_from_token(token)
    check_survey_open(survey, now=now)  # a used or expired link says so before judging what was sent
    score = _score(score)
    comment = (comment or "").strip()
    policy = SurveyPolicy.current()
    if score <= policy.low_score and not comment:
        raise InvalidInput({"comment": [_("Tell us what went wrong: a comment is required for a score of "
                                          "%(score)d or lower.") % {"score": policy.low_score}]})
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        check_survey_open(locked, now=now)
        # The signed link is the respondent's key: the log names them as the one who answered.
        survey = perform_transition(locked, "answer", user=survey.respondent, allow_internal=True,
                                    data={"score": score, "comment": comment, "answered_at": now})
        if score <= policy.low_score:
            _open_follow_up(survey, now=now)
    return survey


def _open_follow_up(survey: Survey, *, now: datetime) -> FollowUp:
    """A low score opens the supervisors' follow-up and tells them."""
    follow_up = FollowUp.objects.create(survey=survey, created_at=now)
    notify(kind=LOW_SCORE, recipients=supervisors(),
           params={"survey": survey.pk, "follow_up": follow_up.pk, "incident": survey.incident.number,
                   "number": survey.incident.number, "title": survey.incident.title, "score": survey.score,
                   "comment": survey.comment},
           link=reverse("sla:follow-up-list"))
    return follow_up


def follow_up_close(follow_up: FollowUp, *, user: User, note: str) -> FollowUp:
    """A supervisor closes a follow-up saying what was done with the respondent (`close`)."""
    return perform_transition(follow_up, "close", user=user, data={"note": note})


# --- Campaigns ------------------------------------------------------------------------------------------


def _check_supervisor(user: User) -> None:
    if not has_role(user, roles.SUPERVISOR):
        raise TransitionForbidden(_("Only a supervisor manages questionnaire campaigns."))


def _clean_question(data: dict[str, Any]) -> dict[str, Any]:
    text = (data.get("text") or "").strip()
    kind = data.get("kind") or QuestionKind.SCORE
    if not text:
        raise InvalidInput({"questions": [_("Every question needs its text.")]})
    if kind not in QuestionKind.values:
        raise InvalidInput({"questions": [_("A question is a score (1–5) or free text.")]})
    return {"text": text[:255], "kind": kind, "team": data.get("team"), "service": data.get("service"),
            "required": data.get("required", True)}


def campaign_create(*, user: User, name: str, closes_at: datetime, departments: Iterable[Department],
                    questions: Iterable[dict[str, Any]], description: str = "") -> Campaign:
    """A supervisor drafts a campaign: its departments, its closing time and its questions (score or text,
    optionally about a team or a service)."""
    _check_supervisor(user)
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Give the campaign a name.")]
    if closes_at is None or closes_at <= timezone.now():
        errors["closes_at"] = [_("The campaign must close in the future.")]
    if errors:
        raise InvalidInput(errors)
    cleaned = [_clean_question(q) for q in questions]
    with transaction.atomic():
        campaign = Campaign.objects.create(name=name.strip(), description=description, closes_at=closes_at,
                                           created_by=user)
        campaign.departments.set(list(departments))
        CampaignQuestion.objects.bulk_create(
            CampaignQuestion(campaign=campaign, ordering=index, **q) for index, q in enumerate(cleaned, 1))
    return campaign


def campaign_open(campaign: Campaign, *, user: User, now: datetime | None = None) -> Campaign:
    """Open a draft campaign (`open`: a supervisor, closing in the future, with questions): invite each chosen
    department's contacts and send each their signed link; refused (400) when the departments have none."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = perform_transition(campaign, "open", user=user)
        contacts = department_contacts(locked.departments.all())
        if not contacts:  # undoes the transition with the rest of the transaction
            raise InvalidInput({"departments": [_("The chosen departments have no contacts to invite.")]})
        invitations = CampaignInvitation.objects.bulk_create(
            CampaignInvitation(campaign=locked, respondent=person, department=department, sent_at=now)
            for person, department in contacts)
        for invitation in invitations:
            _announce_invitation(locked, invitation)
    return locked


def _announce_invitation(campaign: Campaign, invitation: CampaignInvitation) -> None:
    notify(kind=CAMPAIGN_INVITED, recipients=[invitation.respondent],
           params={"campaign": campaign.pk, "name": campaign.name, "intro": campaign.description,
                   "date": timezone.localtime(campaign.closes_at).strftime("%Y-%m-%d %H:%M")},
           link=invitation_link(invitation), channels=(Channel.IN_APP, Channel.EMAIL), webhooks=False)


def campaign_close(campaign: Campaign, *, user: User) -> Campaign:
    """Close an open campaign (`close`, a supervisor): its links stop working (410) and its results are final."""
    return perform_transition(campaign, "close", user=user)


def close_due_campaigns(*, now: datetime | None = None) -> int:
    """Open campaigns past their closing time close by themselves, all at once (`expire`)."""
    return len(perform_bulk_transition(Campaign.objects.filter(closes_at__lte=now or timezone.now()), "expire"))


def invitation_from_token(token: str) -> CampaignInvitation:
    """The invitation a link opens, with its campaign and questions (404 for a forged link)."""
    invitation = (CampaignInvitation.objects.select_related("campaign", "department")
                  .filter(pk=unsign(token, salt=CAMPAIGN_SALT)).first())
    if invitation is None:
        raise LinkNotFound()
    return invitation


def check_invitation_open(invitation: CampaignInvitation, *, now: datetime | None = None) -> None:
    """An invitation answers once (409 after), only while its campaign is open (410 once closed or past)."""
    if invitation.answered_at:
        raise AlreadyAnswered()
    campaign = invitation.campaign
    if campaign.state != CampaignState.OPEN or campaign.closes_at <= (now or timezone.now()):
        raise LinkExpired(_("This questionnaire is closed."))


def invitation_to_answer(token: str) -> CampaignInvitation:
    """The invitation a link opens while its campaign takes answers (404, 409 or 410 otherwise), carrying
    its questions in order."""
    invitation = invitation_from_token(token)
    check_invitation_open(invitation)
    invitation.questions = list(invitation.campaign.questions.select_related("team", "service"))
    return invitation


def _campaign_answers(questions: list[CampaignQuestion], values: dict[Any, Any]) -> list[CampaignAnswer]:
    answers, errors = [], {}
    for question in questions:
        raw = values.get(question.pk, values.get(str(question.pk)))
        raw = "" if raw is None else str(raw).strip()
        if not raw:
            if question.required:
                errors[str(question.pk)] = [_("Please answer this question.")]
            continue
        if question.kind == QuestionKind.SCORE:
            if raw not in {str(s) for s in SCORES}:
                errors[str(question.pk)] = [_("Choose a score from 1 to 5.")]
                continue
            answers.append(CampaignAnswer(question=question, score=int(raw)))
        else:
            answers.append(CampaignAnswer(question=question, text=raw))
    if errors:
        raise InvalidInput(errors)
    return answers


def campaign_answer(*, token: str, answers: dict[Any, Any], now: datetime | None = None) -> CampaignInvitation:
    """Record a contact's answers to a campaign, once, while it is open; required questions must be answered
    and scores be 1–5."""
    now = now or timezone.now()
    invitation = invitation_from_token(token)
    check_invitation_open(invitation, now=now)
    rows = _campaign_answers(list(invitation.campaign.questions.all()), answers)
    with transaction.atomic():
        claimed = CampaignInvitation.objects.filter(pk=invitation.pk, answered_at__isnull=True).update(
            answered_at=now)
        if not claimed:
            raise AlreadyAnswered()
        for row in rows:
            row.invitation = invitation
        CampaignAnswer.objects.bulk_create(rows)
    invitation.answered_at = now
    return invitation
