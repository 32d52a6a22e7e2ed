"""Helpers of the browser tests every app writes (Playwright driving Debian's Chromium, `browser_page`): sign in
in a language, and look at a page — it answers, fits the window, and is kept as a screenshot."""

import os
from pathlib import Path
from typing import Any


def screenshots(tmp_path: Path, language: str) -> Path:
    """Where a test's screenshots in `language` go: $SCREENSHOT_DIR/<language> when it is set (to look at them),
    else the test's own temporary folder."""
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def sign_in(page: Any, user: Any, language: str = "en") -> None:
    """Sign the user in (password "pw", as the factories make them) with pages in `language`."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")


def look(page: Any, path: str, name: str, shots: Path) -> None:
    """Open the page: it answers 200 and does not overflow the window; its screenshot goes to `shots`/`name`.png."""
    response = page.goto(page.base_url + path)
    assert response.status == 200, path
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{path} overflows the window by {overflow}px"
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
