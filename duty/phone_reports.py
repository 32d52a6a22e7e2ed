"""A fault reported by phone is recorded in the duty log against the duty officer's current shift (值班人員接報):
written in the transaction that records the incident."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from duty.choices import LogKind
from duty.models import DutyLogEntry, Shift
from duty.paging import shifts_on_duty
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.notification_kinds import language_of


def current_shift_for_report(incident: Incident) -> Shift | None:
    """The shift of a published roster the recorder is on now; else the shift of the duty officer on duty now (a
    supervisor took the call for them); None when nobody is on a duty officer's shift."""
    shifts = shifts_on_duty(incident.created_at or timezone.now())
    return (next((s for s in shifts if s.user_id == incident.created_by_id), None)
            or next((s for s in shifts if s.role == roles.DUTY_OFFICER), None))


def record_phone_report(incident: Incident) -> DutyLogEntry | None:
    """Log the phone report (kind: fault reported) on the current duty shift, linked to the incident, in the
    recorder's language; nothing when nobody is on duty."""
    shift = current_shift_for_report(incident)
    if shift is None:
        return None
    with translation.override(language_of(incident.created_by)):
        text = _("Fault reported by phone: %(number)s %(title)s (caller: %(caller)s)") % {
            "number": incident.number, "title": incident.title, "caller": incident.caller_name or "—"}
    entry = DutyLogEntry.objects.create(shift=shift, author=incident.created_by, kind=LogKind.FAULT,
                                        occurred_at=incident.created_at, text=text[:2000])
    entry.incidents.add(incident)
    return entry
