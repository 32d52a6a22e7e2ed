"""Who may use the change endpoints: reading needs the view permission, writing the add permission (auditors
are read-only). Everything finer — who edits, approves, votes, implements, invites opinions — is the rule of
the change's services and state machine, the same for pages, API and admin."""

from typing import Any

from changes.models import Change
from opscenter.core.api.permissions import RoleModelPermissions


class ChangePermissions(RoleModelPermissions):
    """Model permissions of the user's roles, every write needing `add_change` (the working roles)."""

    # PUT and DELETE are left out: they are not offered (405), whoever asks.
    perms_map = {
        **{method: perms for method, perms in RoleModelPermissions.perms_map.items()
           if method not in ("PUT", "DELETE")},
        "PATCH": ["%(app_label)s.add_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        # The model is all the check needs; asking the view would run its visibility queries twice.
        return Change.objects.none()
