"""Steps of the browser tests (Playwright driving Debian's Chromium on the live server; see the `browser_page`
fixture): signing in in a language, and looking at a page — it answers, lays out without overflowing the window,
and is photographed for a person to look at."""

from pathlib import Path
from typing import Any


def sign_in(page: Any, user: Any, language: str = "en") -> None:
    """Sign `user` in (password "pw", as the factories set it), reading the pages in `language`."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")


def settle(page: Any, name: str, shots: Path) -> None:
    """The page as it stands fits the window's width; its screenshot is `shots/name.png`."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} overflows the window by {overflow}px"
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def look(page: Any, path: str, name: str, shots: Path) -> None:
    """Open `path`: it answers 200, fits the window, and is photographed as `name`."""
    response = page.goto(page.base_url + path)
    assert response.status == 200, path
    settle(page, name, shots)
