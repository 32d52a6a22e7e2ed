"""The 7×24 calendar and a Monday–Friday office-hours calendar, the survey policy, and role permissions."""

import datetime

from django.db import migrations

from opscenter.core import roles
from opscenter.core.roles import grant_role_permissions

CONFIG = ["businesscalendar", "workinginterval", "calendarexception", "agreement", "servicetarget",
          "prioritytarget", "threshold", "teamtarget", "surveypolicy", "campaign", "campaignquestion"]
RECORDS = ["clock", "clockevent", "breach", "outage", "evaluation", "survey", "followup", "campaigninvitation",
           "campaignanswer"]
VIEW_ALL = [f"sla.view_{m}" for m in (*CONFIG, *RECORDS)]
PERMISSIONS = {
    roles.SUPERVISOR: [*VIEW_ALL, *[f"sla.{verb}_{m}" for m in CONFIG for verb in ("add", "change", "delete")],
                       "sla.change_breach", "sla.add_outage", "sla.change_outage", "sla.add_evaluation",
                       "sla.change_evaluation", "sla.change_followup"],
    roles.AUDITOR: VIEW_ALL,
    **{role: ["sla.view_businesscalendar", "sla.view_agreement", "sla.view_clock", "sla.view_breach",
              "sla.view_outage", "sla.add_outage", "sla.change_outage"]
       for role in (*roles.ENGINEERS, roles.DUTY_OFFICER)},
}


def create_defaults(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    WorkingInterval = apps.get_model("sla", "WorkingInterval")
    SurveyPolicy = apps.get_model("sla", "SurveyPolicy")
    BusinessCalendar.objects.get_or_create(name="7×24", defaults={"is_24x7": True})
    office, created = BusinessCalendar.objects.get_or_create(
        name="Office hours Mon–Fri 08:00–17:00", defaults={"holiday_country": "CN"})
    if created:
        for weekday in range(5):
            WorkingInterval.objects.create(calendar=office, weekday=weekday, start=datetime.time(8),
                                           end=datetime.time(17))
    if not SurveyPolicy.objects.exists():
        SurveyPolicy.objects.create()
    grant_role_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("core", "0003_feedtoken"), ("incidents", "0002_defaults")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
