"""What the duty app tells people (the kinds its services and sweeps send); the kernel renders each for its
reader."""

from django.utils.translation import gettext_lazy as _

from opscenter.core.notification_kinds import NotificationKind, declare

# --- attend: attendance and handovers --------------------------------------------------------------------------

ABSENT, ABSENT_BACKUP, ARRIVED_AFTER_ABSENCE, HANDOVER_WRITTEN, HANDOVER_ACKNOWLEDGED = declare(
    NotificationKind("duty.absent", _("Absent from a shift"),
                     _("%(person)s has not checked in for the %(team)s shift from %(start_at)s"),
                     _("Marked absent %(minutes)s minutes after the start. Backup: %(backup)s.")),
    NotificationKind("duty.absent_backup", _("Asked to cover an absence"),
                     _("Please cover: %(person)s has not checked in for the %(team)s shift from %(start_at)s"),
                     _("You are the backup: you are on duty next to this shift, or the next of the team on duty. "
                       "The supervisor has been told.")),
    NotificationKind("duty.arrived_after_absence", _("Arrived after being marked absent"),
                     _("%(person)s has arrived for the %(team)s shift from %(start_at)s, %(minutes)s minutes late")),
    NotificationKind("duty.handover_written", _("Handover to acknowledge"),
                     _("Handover from %(person)s (%(team)s) to acknowledge"),
                     _("Read it and acknowledge it when you take over: %(person)s may leave only then.")),
    NotificationKind("duty.handover_acknowledged", _("Handover acknowledged"),
                     _("%(person)s has acknowledged your handover (%(team)s): you may check out")),
)
