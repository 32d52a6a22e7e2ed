"""Admin of the kernel: organisation, roles, services, CIs, webhooks; audit records read-only; and the
transition buttons and forms every process app's admin uses (TransitionAdminMixin)."""

import inspect
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UsernameField
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import Transition
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition, FSMTransitionContext
from knox.models import AuthToken

from opscenter.core.exceptions import OpsCenterError, TransitionForbidden
from opscenter.core.formatting import local_minute
from opscenter.core.lockout import lockout_seconds, log_unlocks
from opscenter.core.models import (
    Attachment,
    Comment,
    ConfigurationItem,
    Department,
    FieldChange,
    Notification,
    Service,
    SignInAttempt,
    SignInFailure,
    Team,
    TransitionLog,
    User,
    WebhookEndpoint,
)
from opscenter.core.services import check_transition, perform_transition
from opscenter.core.workflow import (
    AvailableTransition,
    available_transitions,
    comment_requirement,
    is_transition,
    state_field_name,
    transition_description,
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


class TeamsField(forms.ModelMultipleChoiceField):
    """The teams a person belongs to (Team.members seen from the person), set when the user is saved."""

    def __init__(self) -> None:
        super().__init__(Team.objects.all(), required=False, label=capfirst(_("teams")),
                         widget=forms.CheckboxSelectMultiple)


class TeamsInitial:
    """A user form whose `teams` field starts with the person's teams."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["teams"].initial = self.instance.teams.all()


class UserChangeFormWithTeams(TeamsInitial, UserChangeForm):
    """A superuser's change form: Django's, and the person's teams."""

    teams = TeamsField()


class SupervisorUserChangeForm(TeamsInitial, forms.ModelForm):
    """What a supervisor changes of a person: organisation, roles, teams and the active flag. No password
    field at all (the fields come from the supervisor's fieldsets)."""

    teams = TeamsField()

    class Meta:
        model = User
        fields = ("groups",)


class SupervisorUserAddForm(forms.ModelForm):
    """A person added by a supervisor has no usable password: they set it through a reset e-mail (or a
    superuser sets it), so nobody signs in as them with a password the supervisor chose."""

    class Meta:
        model = User
        fields = ("username",)
        field_classes = {"username": UsernameField}

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
            self.save_m2m()
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """People. A superuser sees and changes everything; anyone else (a supervisor) manages a person's
    organisation, roles, teams and active flag only: no superuser or staff flag, no direct permissions, no
    password, and no superuser's account. A change of roles is written to the person's history in words."""

    list_display = ["username", "display_name", "email", "department", "role_list", "is_active"]
    list_filter = ["groups", "department", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email"]
    list_select_related = ["department"]
    form = UserChangeFormWithTeams
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("display_name", "department", "phone", "language", "teams")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Organisation"), {"fields": ("display_name", "email", "department", "groups")}),
    )
    supervisor_fieldsets = (
        (None, {"fields": ("username", "is_active")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Organisation"), {"fields": ("display_name", "department", "phone", "language", "groups", "teams")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    supervisor_add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username",)}),
        (_("Organisation"), {"fields": ("display_name", "email", "department", "groups")}),
    )
    supervisor_readonly_fields = ("username", "email", "last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.supervisor_add_fieldsets if obj is None else self.supervisor_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser or obj is None:
            return super().get_readonly_fields(request, obj)
        return self.supervisor_readonly_fields  # the e-mail a reset is sent to is not redirected

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            kwargs["form"] = SupervisorUserAddForm if obj is None else SupervisorUserChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # a superuser's account is a superuser's business
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:  # noqa: A002
        """Only a superuser sets someone's password here; everyone changes their own on the password page."""
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        user = form.instance
        before = set(user.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        if "teams" in form.cleaned_data:
            user.teams.set(form.cleaned_data["teams"])
        after = set(user.groups.values_list("name", flat=True))
        if before != after:
            self.log_change(request, user, roles_change_message(
                request.user, user, added=sorted(after - before), removed=sorted(before - after)))

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())


def roles_change_message(actor: Any, user: Any, *, added: list[str], removed: list[str]) -> str:
    """The line of a person's admin history that says which roles changed, and that they gave them to
    themselves when they did."""
    parts = []
    if added:
        parts.append(gettext("Roles added: %(roles)s.") % {"roles": ", ".join(added)})
    if removed:
        parts.append(gettext("Roles removed: %(roles)s.") % {"roles": ", ".join(removed)})
    if actor.pk == user.pk:
        parts.append(gettext("Changed by the user themselves."))
    return " ".join(parts)


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """Roles (groups). Their names and permissions are set by migrations and changed by a superuser only:
    a supervisor reads them here and gives people roles on the person's page."""

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_fields(request, obj)
        return ("name", "permission_list")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("name", "permission_list")

    @admin.display(description=_("permissions"))
    def permission_list(self, obj: Group) -> str:
        permissions = obj.permissions.select_related("content_type").order_by(
            "content_type__app_label", "content_type__model", "codename")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(p),) for p in permissions)))


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


class PolicyAdmin(admin.ModelAdmin):
    """A process's one policy row (written by its app's data migration): edited, never added nor deleted. Adding
    is refused without asking the database, so the admin's menus cost nothing for it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ViewAndDeleteAdmin(admin.ModelAdmin):
    """Records the system writes: read with the view permission, deleted with the delete one, never added or
    changed by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ViewAndDeleteAdmin):
    """Audit records: visible to those with the view permission, never changed or deleted."""

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


# --- Sign-in lockout (django-axes; its own admin is off: AXES_ENABLE_ADMIN) ----------------------------------


def _counted_since() -> Any:
    """Failures older than this no longer count (the cool-off after the latest one); None: they all count."""
    seconds = lockout_seconds()
    return timezone.now() - timedelta(seconds=seconds) if seconds else None


def titled(title: Any, base: type = admin.AllValuesFieldListFilter) -> type:
    """A field's list filter under the kernel's (translated) title rather than the field's own name."""

    class TitledFilter(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledFilter


class LockedOutFilter(admin.SimpleListFilter):
    title = _("locked out")
    parameter_name = "locked_out"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        since = _counted_since()
        locked = models.Q(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
        if since is not None:
            locked &= models.Q(attempt_time__gte=since)
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


class SignInColumns:
    """The columns of a failed sign-in under the kernel's names (django-axes' fields are named in English only)."""

    @admin.display(description=_("Username"), ordering="username")
    def who(self, obj: Any) -> str:
        return obj.username or ""

    @admin.display(description=_("address"), ordering="ip_address")
    def address(self, obj: Any) -> str:
        return obj.ip_address or "—"

    @admin.display(description=_("when"), ordering="attempt_time")
    def when(self, obj: Any) -> str:
        return local_minute(obj.attempt_time)

    @admin.display(description=_("page"), ordering="path_info")
    def page(self, obj: Any) -> str:
        return obj.path_info

    @admin.display(description=_("browser or client"))
    def client(self, obj: Any) -> str:
        return obj.user_agent


@admin.register(SignInAttempt)
class SignInAttemptAdmin(SignInColumns, ViewAndDeleteAdmin):
    """Failed sign-ins by username and address (the sign-in page, the admin's, the API's token endpoint), those
    locked out first; Unlock (or deleting the row) clears a row's failures, and each unlock is a log line."""

    list_display = ["who", "address", "failures", "when", "page", "status"]
    list_filter = [LockedOutFilter, ("path_info", titled(_("page")))]
    search_fields = ["username", "ip_address"]
    fields = ["who", "address", "failures", "when", "page", "client", "status"]
    readonly_fields = fields
    actions = ["unlock"]

    @admin.display(description=_("failures"), ordering="failures_since_start")
    def failures(self, obj: SignInAttempt) -> int:
        return obj.failures_since_start

    @admin.display(description=_("status"))
    def status(self, obj: SignInAttempt) -> str:
        seconds = lockout_seconds()
        if seconds and obj.attempt_time < timezone.now() - timedelta(seconds=seconds):
            return gettext("No longer counted")
        left = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        if left > 0:
            return ngettext("%(count)d attempt left", "%(count)d attempts left", left) % {"count": left}
        if not seconds:
            return gettext("Locked out until unlocked")
        return gettext("Locked out until %(time)s") % {
            "time": local_minute(obj.attempt_time + timedelta(seconds=seconds))}

    @admin.action(description=_("Unlock the selected usernames and addresses"), permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        count = len(queryset)
        self.delete_queryset(request, queryset)
        self.message_user(request, ngettext("%(count)d username and address unlocked.",
                                            "%(count)d usernames and addresses unlocked.", count) % {"count": count})

    def delete_model(self, request: HttpRequest, obj: SignInAttempt) -> None:
        super().delete_model(request, obj)
        log_unlocks([obj], by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        attempts = list(queryset)
        super().delete_queryset(request, queryset)
        log_unlocks(attempts, by=request.user)


@admin.register(SignInFailure)
class SignInFailureAdmin(SignInColumns, ReadOnlyAdmin):
    """Every failed sign-in, kept after an unlock: whether it was refused for a lockout."""

    list_display = ["when", "who", "address", "page", "refused", "client"]
    list_filter = [("locked_out", titled(_("locked out"), admin.BooleanFieldListFilter)),
                   ("path_info", titled(_("page")))]
    search_fields = ["username", "ip_address"]
    fields = ["when", "who", "address", "page", "refused", "client"]
    readonly_fields = fields
    date_hierarchy = "attempt_time"

    @admin.display(description=_("locked out"), boolean=True, ordering="locked_out")
    def refused(self, obj: SignInFailure) -> bool:
        return obj.locked_out


# --- API tokens (django-rest-knox; its own admin, which makes tokens for anyone, is replaced) -------------------

admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(ViewAndDeleteAdmin):
    """Everyone's API tokens, for a superuser to revoke (delete); none is made here: a person asks for their own at
    the token endpoint, so that nobody holds a token for someone else."""

    list_display = ["token", "owner", "issued", "expires"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username"]
    fields = list_display
    readonly_fields = fields

    @admin.display(description=_("Token"), ordering="token_key")
    def token(self, obj: AuthToken) -> str:
        return f"{obj.token_key}…"

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, obj: AuthToken) -> str:
        return obj.user.get_username()

    @admin.display(description=_("Issued"), ordering="created")
    def issued(self, obj: AuthToken) -> str:
        return local_minute(obj.created)

    @admin.display(description=_("Expires"), ordering="expiry")
    def expires(self, obj: AuthToken) -> str:
        return local_minute(obj.expiry)


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


class TicketAdminMixin:
    """A ticket's admin pages (`class XAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, TicketAdminMixin,
    admin.ModelAdmin)`): the rows the user may see, none added (a ticket is made by its service, with its
    number and first log row) nor deleted (a ticket and its timeline are records of what happened), a read-only
    ticket (closed, cancelled …) not changed at all. The change form shows every field of `fieldsets`; those the
    ticket's state allows (`editable`: state → field names, the app service's `EDITABLE`), for a user `may_edit`
    lets, are inputs and the rest read-only. A save goes through `update`, the app's `<entity>_update` service,
    which checks each change and records it on the timeline; many-to-many fields pass as lists."""

    editable: dict[str, Any] = {}
    select_related: tuple[str, ...] = ()  # what the pages read besides the ticket (the change list's rows too)

    def update(self, request: HttpRequest, obj: Any, changes: dict[str, Any]) -> Any:
        """Save `changes` through the app's service; the ticket as it ends up."""
        raise NotImplementedError

    def may_edit(self, request: HttpRequest, obj: Any) -> bool:
        """Whether this user may edit the ticket's fields at all (the state decides which)."""
        return True

    def ticket_fields(self) -> list[str]:
        return [name for _title, options in self.fieldsets or () for name in options["fields"]]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        rows = super().get_queryset(request).visible_to(request.user)
        return rows.select_related(*self.select_related) if self.select_related else rows

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_read_only:
            return False
        return super().has_change_permission(request, obj)

    def editable_fields(self, request: HttpRequest, obj: Any) -> set[str]:
        if obj is None or obj.is_read_only or not self.may_edit(request, obj):
            return set()
        return set(self.editable.get(getattr(obj, state_field_name(type(obj))), ())) & set(self.ticket_fields())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        editable = self.editable_fields(request, obj)
        fixed = [name for name in self.ticket_fields() if name not in editable]
        return tuple(dict.fromkeys([*super().get_readonly_fields(request, obj), *fixed]))

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        editable = self.editable_fields(request, obj)
        changes = {name: list(form.cleaned_data[name]) if obj._meta.get_field(name).many_to_many
                   else form.cleaned_data[name] for name in form.changed_data if name in editable}
        if changes:
            self.update(request, obj, changes)


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


def _choice_label(field: Any, value: str) -> str:
    """A stored value as people read it: a choice's label, else the value itself."""
    return str(dict(getattr(field, "choices", None) or ()).get(value, value)) if value else "—"


def _field_of(model: type[models.Model], name: str) -> tuple[str, Any]:
    """The name people read for a field of the timeline (its verbose name) and the field (None when the name
    is not a field of the model, such as a plan's steps)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name.replace("_", " "), None
    if field.is_relation and field.auto_created:  # a reverse relation (the steps of a change)
        return str(field.related_model._meta.verbose_name_plural), None
    return str(field.verbose_name), field


def admin_timeline(obj: models.Model) -> str:
    """Transitions and field edits of a ticket in the admin, oldest first, in words: the transition's label and
    the states' labels (not `draft → awaiting_approval`), a field's name and its values as people read them."""
    model = type(obj)
    where = {"content_type": ContentType.objects.get_for_model(model), "object_id": obj.pk}
    state_field = model._meta.get_field(state_field_name(model))
    rows = [(log.created_at, _transition_name(model, log.transition),
             f"{_choice_label(state_field, log.source_state)} → {_choice_label(state_field, log.target_state)}",
             log.actor, log.comment) for log in TransitionLog.objects.filter(**where).select_related("actor")]
    for edit in FieldChange.objects.filter(**where).select_related("actor"):
        label, field = _field_of(model, edit.field)
        rows.append((edit.created_at, label, f"{_choice_label(field, edit.old_value)} → "
                                             f"{_choice_label(field, edit.new_value)}", edit.actor, ""))
    rows.sort(key=lambda row: row[0])
    return format_html(
        '<table class="admin-timeline" id="{}-timeline"><tbody>{}</tbody></table>', model._meta.model_name,
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (local_minute(at), what, change, actor or "—", comment) for at, what, change, actor, comment in rows)))


def _transition_name(model: type[models.Model], name: str) -> str:
    """A logged transition as people read it: its label (a ticket's creation has no transition method)."""
    meta = getattr(getattr(model, name, None), "_django_fsm", None)
    if meta is None:
        return gettext("Created") if name in ("create", "report") else name.replace("_", " ")
    return transition_label(next(iter(meta.transitions.values())))


class TransitionAdminMixin(FSMAdminMixin):
    """django-fsm-2's buttons and forms, but the buttons are the kernel's list of what the signed-in user may do
    from the current state (internal transitions hidden), one a policy rule blocks is marked with the rule, a
    refusal says the policy's reason, and every transition goes through `perform` (override it to call the
    app's service). Declare `fsm_forms`: the form of each transition that needs data.

    A decision panel at the top of the change page (what a person decides on, and the decisions as buttons
    with the comment they ask): declare `decision_template` and `decision_transitions` (their forms are the
    `fsm_forms`), and return the template's context from `decision_context` (None leaves the panel out)."""

    fsm_fields = ["state"]
    change_form_template = "admin/core/transition_change_form.html"
    decision_template = ""
    decision_title = _("Decision")
    decision_transitions: tuple[str, ...] = ()
    danger_transitions: tuple[str, ...] = ()

    class Media:
        # The list at 1366 px: numbers and the words of states never break inside (static/css/admin-lists.css).
        css = {"all": ("css/admin-lists.css",)}

    def decision_context(self, request: HttpRequest, obj: Any) -> dict[str, Any] | None:
        """What the decision panel shows of `obj`; None leaves the panel out."""
        return None

    def decision_refusal(self, obj: Any, user: Any) -> str:
        """Why this user, who might otherwise decide, may not decide now (segregation of duties, a vote already
        cast): the permission's own explanation; "" when it only lacks the role (nothing particular to say)."""
        for name in self.decision_transitions:
            meta = getattr(getattr(self.model, name, None), "_django_fsm", None)
            transition = meta.get_transition(getattr(obj, state_field_name(self.model))) if meta else None
            refusal = getattr(getattr(transition, "permission", None), "refusal", None)
            exc = refusal(obj, user) if refusal else None
            if exc is not None and exc.code != TransitionForbidden.code:
                return str(exc.detail)
        return ""

    def decision_panel(self, request: HttpRequest, obj: Any,
                       choices: list[AvailableTransition]) -> dict[str, Any] | None:
        """The panel: the app's summary rendered, and a form with its button for each decision this user may
        take now (posted to the transition's admin form, which performs it through `perform`)."""
        if obj is None or not self.decision_template:
            return None
        context = self.decision_context(request, obj)
        if context is None:
            return None
        offered = {c.name: c for c in choices if c.allowed}
        decisions = []
        opts = self.model._meta
        for name in self.decision_transitions:
            if name not in offered:
                continue
            form_class = self.fsm_forms.get(name) or TransitionForm
            decisions.append({
                "name": name, "label": offered[name].label, "form": form_class(obj=obj, auto_id=f"id_{name}_%s"),
                "help_text": transition_description(self._get_fsm_transition_by_name(obj=obj, transition_name=name)),
                "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_transition", args=[obj.pk, name]),
                "danger": name in self.danger_transitions})
        may_change = self.has_change_permission(request, obj)
        refusal = self.decision_refusal(obj, request.user) if may_change and not decisions else ""
        return {"title": self.decision_title, "decisions": decisions, "refusal": refusal,
                "body": render_to_string(self.decision_template, {**context, "original": obj}, request)}

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The change form with the transition buttons and the decision panel, from one list of what this user
        may do now."""
        obj = self.get_object(request, object_id)
        choices = self._choices(request, obj)
        context = {**(extra_context or {}),
                   self.fsm_context_key: self._get_fsm_extra_context(request=request, obj=obj, choices=choices),
                   "decision_panel": self.decision_panel(request, obj, choices)}
        return admin.ModelAdmin.change_view(self, request, object_id, form_url, context)

    def _choices(self, request: HttpRequest, obj: Any) -> list[AvailableTransition]:
        if obj is None or not self.has_change_permission(request, obj):
            return []  # a view-only user gets no buttons
        return available_transitions(obj, request.user)

    @admin.display(description=_("timeline"))
    def timeline(self, obj: Any) -> str:
        return admin_timeline(obj)

    def perform(self, obj: Any, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Any:
        return perform_transition(obj, name, user=user, comment=comment, data=data)

    def change_url(self, obj: Any) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def get_fsm_label(self, transition: Transition) -> str:
        return transition_label(transition)

    def get_help_text(self, transition: Transition) -> str | None:
        return transition_description(transition) or None

    def _get_fsm_extra_context(self, *, request: HttpRequest, obj: Any,
                               choices: list[AvailableTransition] | None = None) -> list[FSMObjectTransition]:
        """The buttons: the transitions this user may take from the current state (the kernel's list,
        so internal ones stay hidden); one a policy rule blocks is marked and says the rule."""
        if choices is None:
            choices = self._choices(request, obj)
        buttons = []
        for choice in choices:
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
