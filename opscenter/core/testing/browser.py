"""Steps of the browser tests (Playwright on Debian's Chromium, the `browser_page` fixture) that every app takes the
same way: signing in as a user in a language, and looking at a page — it must not overflow the window — with a
screenshot kept for people to look at."""

from pathlib import Path
from typing import Any


def sign_in(page: Any, user: Any, language: str | None = None, password: str = "pw") -> None:
    """Sign `user` in on the sign-in page (the factories' password by default; in `language`, when given, through
    the language cookie) and wait for the home page."""
    page.context.clear_cookies()
    if language:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")


def shoot(page: Any, name: str, shots: Path) -> None:
    """The page as it is now fits the window's width; its full screenshot is saved as `shots/name.png` (first, so
    that a page that does not fit can be looked at)."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        raise AssertionError(f"{page.url} overflows the window by {overflow}px: {wide}")


def look(page: Any, path: str, name: str, shots: Path) -> None:
    """Open `path` (200), check that it fits the window and keep its screenshot."""
    response = page.goto(page.base_url + path)
    assert response.status == 200, path
    shoot(page, name, shots)


def act(page: Any, name: str, fields: dict[str, str] | None = None, checks: tuple[str, ...] = ()) -> None:
    """Take the transition `name` on the page open now: open its form (`#transition-<name>`), fill `fields` and tick
    `checks` (named `<name>-<field>`, or `<field>` in a form without a prefix), submit and wait for the next page,
    which shows no error."""
    form = page.locator(f"#transition-{name}")
    form.evaluate("el => el.open = true")
    for field, value in (fields or {}).items():
        form.locator(f'[name="{name}-{field}"], [name="{field}"]').fill(value)
    for field in checks:
        form.locator(f'[name="{name}-{field}"], [name="{field}"]').check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").all_inner_texts()
