"""Who may use the problem endpoints: reading needs the view permission (department users have none: 403),
writing the add permission (auditors and duty officers only read). Everything finer — who edits, plans, moves,
approves — is the rule of the problem's services and state machine, the same for pages, API and admin."""

from typing import Any

from opscenter.core.api.permissions import RoleModelPermissions
from problems.models import ActionItem, Problem


class ProblemPermissions(RoleModelPermissions):
    """Model permissions of the user's roles, every write needing `add_problem` (the working roles): editing,
    transitions, links and unlinks, comments, files and raising a change."""

    # PUT is left out: it is not offered (405), whoever asks. DELETE only unlinks an incident.
    perms_map = {
        **{method: perms for method, perms in RoleModelPermissions.perms_map.items() if method != "PUT"},
        "PATCH": ["%(app_label)s.add_%(model_name)s"],
        "DELETE": ["%(app_label)s.add_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        # The model is all the check needs; asking the view would run its visibility queries twice.
        return Problem.objects.none()


class ActionItemPermissions(RoleModelPermissions):
    """Reading actions needs their view permission; adding, editing and moving them `add_actionitem`."""

    perms_map = {
        **{method: perms for method, perms in RoleModelPermissions.perms_map.items()
           if method not in ("PUT", "DELETE")},
        "PATCH": ["%(app_label)s.add_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        return ActionItem.objects.none()
