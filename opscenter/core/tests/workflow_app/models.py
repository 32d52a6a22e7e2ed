"""WorkOrder: draft → submitted → approved → done, with a condition, role and owner permissions."""

from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import FSMField, transition

from opscenter.core.models import Service, Ticket, TicketQuerySet
from opscenter.core.roles import DEPARTMENT_USER, SUPERVISOR, has_role
from opscenter.core.workflow import condition, roles_allowed


class WorkOrderQuerySet(TicketQuerySet):
    def visible_to(self, user):  # noqa: ANN001, ANN201
        qs = super().visible_to(user)
        if has_role(user, DEPARTMENT_USER) and not has_role(user, SUPERVISOR):
            return qs.filter(created_by=user)
        return qs


@condition("An estimate is required before approval (test policy §1).")
def has_estimate(order: "WorkOrder") -> bool:
    return order.estimate_hours is not None


def is_owner(order: "WorkOrder", user) -> bool:  # noqa: ANN001
    return user.pk == order.created_by_id


class WorkOrder(Ticket):
    NUMBER_PREFIX = "WO"

    state = FSMField(default="draft", protected=True)
    estimate_hours = models.PositiveIntegerField(null=True, blank=True)
    result = models.TextField(blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="+", verbose_name="services")

    objects = WorkOrderQuerySet.as_manager()

    @property
    def is_read_only(self) -> bool:
        return self.state in ("done", "cancelled")

    @transition(field=state, source="draft", target="submitted", permission=is_owner, custom={"label": "Submit"})
    def submit(self, *, by) -> None:  # noqa: ANN001
        """The owner submits the draft."""

    @transition(field=state, source="submitted", target="approved", conditions=[has_estimate],
                permission=roles_allowed(SUPERVISOR))
    def approve(self, *, by) -> None:  # noqa: ANN001
        """A supervisor approves a submitted order that has an estimate."""

    @transition(field=state, source="approved", target="done", permission=roles_allowed(SUPERVISOR))
    def finish(self, *, by, result: str) -> None:  # noqa: ANN001
        """Record the result."""
        if not result.strip():
            raise ValidationError({"result": "A result is required."})
        self.result = result

    @transition(field=state, source=["draft", "submitted"], target="cancelled", permission=is_owner)
    def cancel(self, *, by) -> None:  # noqa: ANN001
        """The owner withdraws the order before approval."""

    @transition(field=state, source="cancelled", target="draft", permission=roles_allowed(SUPERVISOR),
                custom={"label": "Restore", "comment_required": "Say why the order is restored."})
    def restore(self, *, by) -> None:  # noqa: ANN001
        """A supervisor brings a cancelled order back to draft, saying why."""
