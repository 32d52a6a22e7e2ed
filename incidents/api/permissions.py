"""Who may use the incident endpoints: reading needs the view permission, writing the add permission
(auditors are read-only); editing and linking an incident is for IT staff, and for its own reporter."""

from typing import Any

from rest_framework.request import Request

from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.roles import has_role

# The incident's own fields change through these actions; transitions, comments, files and reviews
# are guarded by their services.
EDIT_ACTIONS = frozenset({"partial_update", "link"})


class IncidentPermissions(RoleModelPermissions):
    """Model permissions of the user's roles, every write needing `add_incident` (the working roles)."""

    # PUT and DELETE are left out: they are not offered (405), whoever asks.
    perms_map = {
        **{method: perms for method, perms in RoleModelPermissions.perms_map.items()
           if method not in ("PUT", "DELETE")},
        "PATCH": ["%(app_label)s.add_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        # The model is all the check needs; asking the view would run its visibility queries twice.
        return Incident.objects.none()

    def has_object_permission(self, request: Request, view: Any, obj: Incident) -> bool:
        if getattr(view, "action", None) not in EDIT_ACTIONS:
            return True
        if has_role(request.user, *roles.IT_STAFF):
            return True
        # A department user may correct what they reported, not link or edit other incidents.
        return view.action != "link" and request.user.pk in (obj.created_by_id, obj.caller_id)
