"""What service levels and surveys tell people (the kinds their sweeps and services send); the kernel renders each
for its reader."""

from django.utils.translation import gettext_lazy as _

from incidents.choices import State
from opscenter.core.notification_kinds import NotificationKind, declare
from sla.choices import ClockKind

LABELS = {"kind": ClockKind, "state": State}

WARNING, BREACH, EVALUATION_PUBLISHED, SURVEY_SENT, LOW_SCORE, CAMPAIGN_INVITED = declare(
    NotificationKind("sla.warning", _("Service level warning"),
                     _("%(number)s: %(percent)d%% of its %(kind)s target used"), "%(title)s", labels=LABELS),
    NotificationKind("sla.breach", _("Service level breach"), _("%(number)s breached its %(kind)s target"),
                     "%(title)s", labels=LABELS),
    NotificationKind("sla.evaluation_published", _("Evaluation published"),
                     _("Service level evaluation of %(month)s published"), "%(summary)s"),
    NotificationKind("survey.sent", _("Satisfaction survey"), _("How did we do on %(number)s?"),
                     _("Your fault “%(title)s” was resolved. Please tell us how satisfied you are (one minute, "
                       "no sign-in needed). The link works once and expires on %(date)s.")),
    NotificationKind("survey.low_score", _("Low satisfaction score"),
                     _("Low satisfaction score %(score)d on %(number)s"), "%(comment)s"),
    NotificationKind("campaign.invited", _("Questionnaire"), _("Questionnaire: %(name)s"),
                     _("%(intro)s\n\nPlease answer before %(date)s (no sign-in needed; the link works once).")),
)
