"""What change management adds to the incident page through the kernel's extension points (incidents do not
import changes): the changes linked to the incident, and a button that raises one from it."""

from typing import Any

from django.urls import reverse

from changes.selectors import incident_changes
from changes.services import may_request


def incident_changes_section(incident: Any, user: Any) -> dict[str, Any]:
    """The incident's changes that the user may see, and where to raise a change from it (for those who may)."""
    raise_url = f"{reverse('changes:change-request')}?incident={incident.pk}" if may_request(user) else ""
    return {"changes": incident_changes(user=user, incident=incident), "raise_url": raise_url}
