"""The admin of every registered ticket model takes its page rules from the kernel's TicketAdminMixin (visible rows,
no adding or deleting, read-only tickets, the fields the state allows, saves through the app's service) instead of
keeping a copy of them."""

from django.contrib import admin

from opscenter.core.admin import TicketAdminMixin
from opscenter.core.models import Ticket

GLUE = ("get_queryset", "has_add_permission", "has_delete_permission", "has_change_permission", "editable_fields",
        "get_readonly_fields", "save_model")


def ticket_admins() -> list[admin.ModelAdmin]:
    return [model_admin for model, model_admin in admin.site._registry.items()
            if issubclass(model, Ticket) and model_admin.fieldsets]


def test_every_ticket_admin_is_the_kernels() -> None:
    found = ticket_admins()
    assert {type(a).__name__ for a in found} >= {"IncidentAdmin", "ChangeAdmin", "ProblemAdmin"}
    for model_admin in found:
        assert isinstance(model_admin, TicketAdminMixin), type(model_admin)
        copied = [name for name in GLUE if name in vars(type(model_admin))]
        assert not copied, (type(model_admin), copied)
        assert model_admin.editable, type(model_admin)  # the app service's EDITABLE, by state
        assert "update" in vars(type(model_admin)), type(model_admin)


def test_the_fields_a_state_allows_are_inputs_and_the_rest_read_only(rf, admin_user) -> None:  # noqa: ANN001
    from incidents.models import Incident  # the kernel's tests exercise it through incidents (.importlinter)
    from incidents.services import EDITABLE

    model_admin = admin.site._registry[Incident]
    request = rf.get("/")
    request.user = admin_user
    draft = Incident(state="reported")
    editable = model_admin.editable_fields(request, draft)
    assert editable and editable == set(EDITABLE["reported"]) & set(model_admin.ticket_fields())
    readonly = set(model_admin.get_readonly_fields(request, draft))
    assert not editable & readonly
    assert set(model_admin.ticket_fields()) - editable <= readonly
    closed = Incident(state="closed")
    assert closed.is_read_only and model_admin.editable_fields(request, closed) == set()
    assert not model_admin.has_change_permission(request, closed)
    assert not model_admin.has_add_permission(request) and not model_admin.has_delete_permission(request, draft)
