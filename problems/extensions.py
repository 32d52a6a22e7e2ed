"""What problem management adds to the incident and change pages through the kernel's extension points (incidents
and changes do not import problems): the problems an incident or a change is linked to, a button that identifies a
problem from an incident, and the problems of a change in its API detail."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opscenter.core.roles import has_role
from problems.api.serializers import ProblemRefSerializer
from problems.models import READERS
from problems.selectors import change_problems, incident_problems
from problems.services import may_work


def incident_problems_section(incident: Any, user: Any) -> dict[str, Any] | None:
    """The incident's problems, and where to identify a problem from it (for those who work problems); nothing for
    those who do not read problems."""
    if not has_role(user, *READERS):
        return None
    identify_url = f"{reverse('problems:problem-create')}?incident={incident.pk}" if may_work(user) else ""
    return {"problems": incident_problems(user=user, incident=incident), "identify_url": identify_url}


def change_problems_section(change: Any, user: Any) -> dict[str, Any] | None:
    """The problems a change was raised from (left out when there are none, or for those who do not read
    problems)."""
    if not has_role(user, *READERS):
        return None
    problems = change_problems(user=user, change=change)
    return {"problems": problems} if problems else None


@extend_schema_field(ProblemRefSerializer(many=True))
class ChangeProblemsField(serializers.SerializerMethodField):
    """`problems` of a change's detail: the problems it was raised from that the caller may see."""

    def __init__(self) -> None:
        super().__init__(help_text="The problems the change was raised from.")

    def to_representation(self, change: Any) -> list[dict[str, Any]]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not has_role(user, *READERS):
            return []
        return ProblemRefSerializer(change_problems(user=user, change=change), many=True).data
