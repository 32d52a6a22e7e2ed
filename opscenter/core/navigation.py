"""What the navigation bar and the role home page show: process apps register items and panels."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from opscenter.core.roles import has_role


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    roles: tuple[str, ...] = ()  # empty: every signed-in user
    order: int = 100
    staff_only: bool = False
    sections: tuple[str, ...] = ()  # path prefixes of the pages under this entry (it stays highlighted there)
    count: Callable[[Any], int] | None = None  # how many things wait for the user there, shown as a badge
    count_title: Any = ""  # what the badge counts, e.g. "Surveys waiting for your answer"

    def url(self) -> str:
        return reverse_once(self.url_name)

    def reach(self, path: str, url: str | None = None) -> int:
        """How closely this entry claims the page at `path`: the length of its address (the page itself) or of the
        longest of its sections the path starts with; -1 when it does not claim it."""
        url = url or self.url()
        if path == url:
            return len(url) + 1  # the entry's own page beats a section of the same length
        return max((len(section) for section in self.sections if path.startswith(section)), default=-1)


_reversed: dict[tuple[str, str, str | None], str] = {}


def reverse_once(url_name: str) -> str:
    """`reverse(url_name)` of an address without arguments, worked out once per script prefix and URL
    configuration: the navigation and the layout name a dozen of them on every page."""
    key = (url_name, get_script_prefix(), get_urlconf())
    url = _reversed.get(key)
    if url is None:
        url = _reversed[key] = reverse(url_name)
    return url


@dataclass(frozen=True)
class HomePanel:
    """A block of the home page: its template gets `panel` and whatever `context(request)` returns."""

    key: str
    title: Any
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    roles: tuple[str, ...] = ()
    order: int = 100
    width: str = "col-lg-6"
    extra: dict[str, Any] = field(default_factory=dict)


_nav: list[NavItem] = []
_panels: list[HomePanel] = []
_tabs: dict[str, list[NavItem]] = {}


def register_nav(item: NavItem) -> None:
    if item not in _nav:
        _nav.append(item)


def register_tab(section: str, item: NavItem) -> None:
    """A page of a process's section (pages whose path starts with `section`, e.g. "/duty/"): every page of the
    section shows the section's tabs the user may open, under its heading, so that none of them is reached only by
    knowing its address while the navigation bar keeps one entry per process."""
    tabs = _tabs.setdefault(section, [])
    if item not in tabs:
        tabs.append(item)


def tabs_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The tabs of the section `path` is in, for `user`: label, url and whether it is the current page's (the tab
    whose address is the longest start of the path; `sections` of a tab add prefixes of its own). Empty when the
    section has fewer than two tabs for the user."""
    section = max((s for s in _tabs if path.startswith(s)), key=len, default=None)
    if section is None:
        return []
    items = sorted((i for i in _tabs[section] if _visible(user, i.roles) and (not i.staff_only or user.is_staff)),
                   key=lambda i: i.order)
    if len(items) < 2:
        return []
    rows = [{"label": item.label, "url": url, "reach": max(item.reach(path, url), len(url) if path.startswith(url)
                                                                else -1)}
            for item in items for url in [item.url()]]
    best = max(rows, key=lambda row: row["reach"])
    for row in rows:
        row["active"] = row is best and row["reach"] >= 0
    return rows


def register_panel(panel: HomePanel) -> None:
    if all(p.key != panel.key for p in _panels):
        _panels.append(panel)


def _visible(user: Any, roles: tuple[str, ...]) -> bool:
    return not roles or has_role(user, *roles)


def nav_for(user: Any) -> list[NavItem]:
    return sorted((i for i in _nav if _visible(user, i.roles) and (not i.staff_only or user.is_staff)),
                  key=lambda i: i.order)


def panels_for(user: Any) -> list[HomePanel]:
    return sorted((p for p in _panels if _visible(user, p.roles)), key=lambda p: p.order)
