"""Template context every page needs: the navigation for the user's roles and the unread count."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from opscenter.core import outbox
from opscenter.core.navigation import nav_for, tabs_for
from opscenter.core.roles import ROLE_LABELS, user_roles


def nav_entries(user: Any, path: str) -> list[dict[str, Any]]:
    """The bar's entries for the user, the one the page is under marked: where two claim it ("Duty" holds every
    /duty/ page, "My duty" /duty/my/), the one whose address or section starts the path most closely."""
    entries = [{"label": item.label, "url": url, "reach": item.reach(path, url),
                "count": item.count(user) if item.count else 0, "count_title": item.count_title}
               for item in nav_for(user) for url in [item.url()]]
    best = max((e["reach"] for e in entries), default=-1)
    for entry in entries:
        entry["active"] = best >= 0 and entry["reach"] == best
    return entries


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": SimpleLazyObject(lambda: nav_entries(user, request.path)),
        "section_tabs": SimpleLazyObject(lambda: tabs_for(user, request.path)),
        # Counted once for the request, when the page first shows it.
        "unread_notifications": SimpleLazyObject(lambda: outbox.unread_count(user)),
        "role_labels": SimpleLazyObject(lambda: [ROLE_LABELS[r] for r in sorted(user_roles(user)) if r in ROLE_LABELS]),
    }
