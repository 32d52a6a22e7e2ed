"""Admin of the kernel: organisation, roles, services, CIs, webhooks; audit records read-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

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
        (_("Organisation"), {"fields": ("display_name", "department", "phone")}),
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
    list_display = ["created_at", "event", "channel", "recipient", "webhook", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel", "event"]
    list_select_related = ["recipient", "webhook"]
