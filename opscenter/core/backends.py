"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class OneQueryPermissionsBackend(ModelBackend):
    """The permissions a user holds directly and through their groups (their roles), read together: every API
    request checks one (reading needs `view_…`, writing `add_…`), and Django's backend reads the two halves
    with a query each."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                fields = ("content_type__app_label", "codename")
                rows = (Permission.objects.filter(user=user_obj).order_by().values_list(*fields)
                        .union(Permission.objects.filter(group__user=user_obj).order_by().values_list(*fields)))
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
