"""Steps of the browser tests (Playwright driving Debian's Chromium, the `browser_page` fixture) that every app
takes the same way."""

from typing import Any


def sign_in(page: Any, user: Any, language: str | None = None, *, password: str = "pw") -> None:
    """Sign `user` in on the sign-in page (in `language`, when given, through the language cookie) and wait for
    the home page."""
    page.context.clear_cookies()
    if language:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")
