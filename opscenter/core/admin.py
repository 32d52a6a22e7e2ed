"""Admin of the kernel: organisation, roles, services, CIs, webhooks; audit records read-only; and the
transition buttons and forms every process app's admin uses (TransitionAdminMixin)."""

import inspect
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import Transition
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition, FSMTransitionContext

from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import (
    Attachment,
    Comment,
    ConfigurationItem,
    Department,
    FieldChange,
    Notification,
    Service,
    Team,
    TransitionLog,
    User,
    WebhookEndpoint,
)
from opscenter.core.services import check_transition, perform_transition
from opscenter.core.workflow import (
    available_transitions,
    comment_requirement,
    is_transition,
    state_field_name,
    transition_label,
)

admin.site.site_header = _("OpsCenter administration")
admin.site.site_title = _("OpsCenter")
admin.site.index_title = _("Administration")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "contact_email", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "lead", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]
    list_select_related = ["lead"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "email", "department", "role_list", "is_active"]
    list_filter = ["groups", "department", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email"]
    list_select_related = ["department"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("display_name", "department", "phone", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Organisation"), {"fields": ("display_name", "email", "department", "groups")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "criticality", "owner_department", "support_team", "service_hours", "is_active"]
    list_filter = ["criticality", "is_active", "support_team"]
    search_fields = ["code", "name"]
    list_select_related = ["owner_department", "support_team"]


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ["name", "ci_type", "asset_tag", "location", "owner_team", "status"]
    list_filter = ["ci_type", "status", "owner_team"]
    search_fields = ["name", "asset_tag", "serial_number", "location"]
    filter_horizontal = ["services"]
    list_select_related = ["owner_team"]
    autocomplete_fields = ["owner"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records: visible to those with the view permission, never changed or deleted."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_id", "transition", "source_state", "target_state", "actor"]
    list_filter = ["content_type", "transition"]
    list_select_related = ["content_type", "actor"]
    date_hierarchy = "created_at"


@admin.register(FieldChange)
class FieldChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_id", "field", "old_value", "new_value", "actor"]
    list_select_related = ["content_type", "actor"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_id", "author", "is_internal"]
    list_select_related = ["content_type", "author"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_id", "original_name", "size", "uploaded_by"]
    list_select_related = ["content_type", "uploaded_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "ticket", "channel", "recipient", "webhook", "status", "attempts",
                    "sent_at"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["ticket"]
    list_select_related = ["recipient", "webhook"]


# --- Transition buttons and forms for every process app's admin ---------------------------------------------


def error_text(exc: OpsCenterError) -> str:
    """A refusal's detail (a sentence, a list, or errors by field) as one line for an admin message."""
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list | tuple) else [msgs]))}"
                         for field, msgs in detail.items())
    if isinstance(detail, list | tuple):
        return " ".join(str(m) for m in detail)
    return str(detail)


class ServiceErrorsAsMessages:
    """A refusal raised by a service while the admin saves (an OpsCenterError) becomes an error
    message on the same page instead of a server error; the transaction of the save is rolled back."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except OpsCenterError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class RecordInline(admin.TabularInline):
    """Records written by their own services: shown, never edited here."""

    extra = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related(*self.select_related)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceRecordAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    """Records of a ticket that a service writes (a review meeting …): added here through `record`, then
    read-only. Declare `ticket_field` (the record's ticket) and override `ticket_queryset` and `record`."""

    ticket_field = ""

    def ticket_queryset(self) -> models.QuerySet:
        raise NotImplementedError

    def record(self, ticket: models.Model, *, user: Any, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == self.ticket_field:
            kwargs["queryset"] = self.ticket_queryset()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False  # the record of what was held is not rewritten

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.Meta.fields if name != self.ticket_field}
        saved = self.record(form.cleaned_data[self.ticket_field], user=request.user, data=data)
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))


class TransitionForm(forms.Form):
    """What every transition may carry: a comment for the timeline. `obj` is the object it is for (a form may
    show what it knows of it)."""

    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, obj: models.Model | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.obj = obj


class ReasonForm(TransitionForm):
    """A transition whose comment is the reason the policy asks for."""

    comment = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


def needs_data(model: type[models.Model], name: str) -> bool:
    """The transition takes arguments without defaults (besides its actor) or a required reason."""
    parameters = inspect.signature(getattr(model, name)).parameters.values()
    return bool(comment_requirement(model, name)) or any(
        p.kind is p.KEYWORD_ONLY and p.default is p.empty and p.name != "by" for p in parameters)


class TransitionAdminMixin(FSMAdminMixin):
    """django-fsm-2's buttons and forms, but the buttons are the kernel's list of what the signed-in user may do
    from the current state (internal transitions hidden), one a policy rule blocks is marked with the rule, a
    refusal says the policy's reason, and every transition goes through `perform` (override it to call the
    app's service). Declare `fsm_forms`: the form of each transition that needs data."""

    fsm_fields = ["state"]

    def perform(self, obj: Any, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Any:
        return perform_transition(obj, name, user=user, comment=comment, data=data)

    def change_url(self, obj: Any) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def get_fsm_label(self, transition: Transition) -> str:
        return transition_label(transition)

    def get_help_text(self, transition: Transition) -> str | None:
        doc = (transition.method.__doc__ or "").strip().splitlines()
        return doc[0] if doc else None

    def _get_fsm_extra_context(self, *, request: HttpRequest, obj: Any) -> list[FSMObjectTransition]:
        """The buttons: the transitions this user may take from the current state (the kernel's list,
        so internal ones stay hidden); one a policy rule blocks is marked and says the rule."""
        if obj is None or not self.has_change_permission(request, obj):
            return []  # a view-only user gets no buttons
        buttons = []
        for choice in available_transitions(obj, request.user):
            label = choice.label if choice.allowed else gettext("%(label)s (blocked)") % {"label": choice.label}
            help_text = choice.reason or self.get_help_text(self._get_fsm_transition_by_name(
                obj=obj, transition_name=choice.name))
            buttons.append(FSMTransitionContext(name=choice.name, label=label, help_text=help_text))
        if not buttons:
            return []
        return [FSMObjectTransition(fsm_field=state_field_name(self.model), block_label=gettext("Transitions"),
                                    available_transitions=buttons)]

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        name = request.POST.get(self.fsm_post_param)
        if name and not is_transition(self.model, name):
            self.message_user(request, gettext("“%(name)s” is not a transition of %(model)s.") % {
                "name": name, "model": self.model._meta.verbose_name}, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def fsm_transition_view(self, request: HttpRequest, object_id: str, transition_name: str,
                            **kwargs: Any) -> HttpResponse:
        """The form of one transition. Whoever may not take it now is told why (segregation of duties, a
        vote already cast, the wrong state) and sent back to the change form; nothing changes."""
        if not is_transition(self.model, transition_name):
            raise Http404(transition_name)
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404(object_id)
        try:
            if not self.has_change_permission(request, obj):
                raise OpsCenterError(gettext("You are not allowed to perform this transition."))
            check_transition(obj, transition_name, user=request.user)
        except OpsCenterError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(self.change_url(obj))
        form_class = self.fsm_forms.get(transition_name)
        if form_class is None:
            return HttpResponseRedirect(self.change_url(obj))
        form = form_class(request.POST if request.method == "POST" else None, obj=obj)
        if form.is_valid() and self._apply_fsm_transition(obj=obj, transition_name=transition_name,
                                                          request=request, kwargs=form.cleaned_data):
            return HttpResponseRedirect(self.change_url(obj))
        transition = self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)
        return render(request, self.fsm_transition_form_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": obj,
            "transition": FSMTransitionContext(name=transition_name, label=self.get_fsm_label(transition),
                                               help_text=self.get_help_text(transition)),
            "transition_form": form})

    def _apply_fsm_transition(self, *, obj: Any, transition_name: str, request: HttpRequest,
                              kwargs: dict[str, Any] | None = None) -> bool:
        """Perform the transition as the signed-in user; a refusal becomes an error message."""
        data = dict(kwargs or {})
        comment = data.pop("comment", "") or ""
        if not data and not comment and transition_name not in self.fsm_forms and needs_data(
                self.model, transition_name):
            self.message_user(request, gettext(
                "“%(name)s” needs data the admin does not ask for: use the %(model)s page.") % {
                "name": transition_name, "model": self.model._meta.verbose_name}, messages.ERROR)
            return False
        try:
            done = self.perform(obj, transition_name, user=request.user, comment=comment, data=data)
        except OpsCenterError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return False
        self.message_user(request, gettext("%(transition)s: %(object)s is now %(state)s.") % {
            "transition": transition_label(self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)),
            "object": getattr(done, "number", done), "state": done.get_state_display()}, messages.SUCCESS)
        return True
