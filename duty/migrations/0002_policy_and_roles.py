"""The duty policy's row and the roles' permissions on duty."""

from django.conf import settings
from django.db import migrations

from opscenter.core import roles
from opscenter.core.roles import grant_role_permissions

CONFIG = ["dutypolicy", "shifttype", "shiftrequirement", "rotation", "rotationmember"]
RECORDS = ["roster", "shift", "swaprequest", "dutylogentry", "handover", "handoveritem", "shiftreminder"]
READ = [f"duty.view_{model}" for model in CONFIG + RECORDS]

PERMISSIONS = {
    roles.SUPERVISOR: READ
    + [f"duty.{verb}_{model}" for model in CONFIG for verb in ("add", "change", "delete")]
    + ["duty.add_roster", "duty.change_roster", "duty.delete_roster", "duty.add_shift", "duty.change_shift",
       "duty.delete_shift", "duty.add_swaprequest", "duty.change_swaprequest", "duty.add_dutylogentry",
       "duty.add_handover", "duty.change_handover"],
    roles.AUDITOR: READ,
    **{role: ["duty.view_shifttype", "duty.view_roster", "duty.view_shift", "duty.view_swaprequest",
              "duty.add_swaprequest", "duty.view_dutylogentry", "duty.add_dutylogentry", "duty.view_handover",
              "duty.add_handover"]
       for role in (*roles.ENGINEERS, roles.DUTY_OFFICER)},
    **{role: ["duty.view_shifttype", "duty.view_roster", "duty.view_shift"]
       for role in (roles.PROBLEM_MANAGER, roles.CHANGE_APPROVER, roles.CAB_MEMBER, roles.RELEASE_MANAGER)},
}


def create_defaults(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    DutyPolicy = apps.get_model("duty", "DutyPolicy")
    if not DutyPolicy.objects.exists():
        DutyPolicy.objects.create(time_zone=settings.TIME_ZONE, reminder_leads_minutes=[720, 30])
    grant_role_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("duty", "0001_initial"), ("core", "0010_notifications_by_kind_and_user_language")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
