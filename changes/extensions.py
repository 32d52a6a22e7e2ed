"""What change management adds to other apps through the kernel's extension points (incidents and duty do not
import changes): on the incident page the changes linked to the incident and a button that raises one from it;
in a shift handover the changes in progress."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse

from changes.choices import State
from changes.models import Change
from changes.selectors import incident_changes
from changes.services import may_request
from opscenter.core.extensions import HandoverEntry

HANDOVER_LIMIT = 50
# Under way: being implemented or verified, or failed and waiting for its rollback.
UNDER_WAY = (State.IMPLEMENTING, State.VERIFYING, State.FAILED)
# Approved and waiting for their window.
WAITING_FOR_WINDOW = (State.APPROVED, State.SCHEDULED)


def incident_changes_section(incident: Any, user: Any) -> dict[str, Any]:
    """The incident's changes that the user may see, and where to raise a change from it (for those who may)."""
    raise_url = f"{reverse('changes:change-request')}?incident={incident.pk}" if may_request(user) else ""
    return {"changes": incident_changes(user=user, incident=incident), "raise_url": raise_url}


def changes_in_progress_for_handover(team: Any, shift_start: datetime, shift_end: datetime, user: Any
                                     ) -> list[HandoverEntry]:
    """The changes the outgoing person hands over (those they may see), implemented by their team or by them, or
    requested by them: those under way, and the approved ones whose window falls in this shift or the next (as
    long again); the earliest window first."""
    next_end = shift_end + (shift_end - shift_start)
    ours = Q(implementer__teams=team) | Q(implementer=user) | Q(created_by=user)
    due = Q(state__in=UNDER_WAY) | Q(state__in=WAITING_FOR_WINDOW, planned_start__lt=next_end,
                                     planned_end__gt=shift_start)
    ids = Change.objects.visible_to(user).filter(ours, due).values("pk")
    rows = (Change.objects.filter(pk__in=ids).only("pk", "number", "title", "state", "planned_start")
            .order_by("planned_start", "pk")[:HANDOVER_LIMIT])
    return [HandoverEntry(reference=change.number, title=change.title, status=State(change.state).label,
                          url=reverse("changes:change-detail", args=[change.pk]))
            for change in rows]
