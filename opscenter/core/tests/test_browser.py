"""In Debian's Chromium: sign in, switch the language, sign out."""

import pytest

from conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def page(live_server, monkeypatch, policy_defaults):  # noqa: ANN001, ANN201
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15000)
        page.base_url = live_server.url
        yield page
        context.close()
        browser.close()


def test_sign_in_switch_language_sign_out(page) -> None:  # noqa: ANN001
    from opscenter.core.demo import seed_organisation

    seed_organisation("demo-pass-1")
    page.goto(page.base_url + "/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "sysadmin")
    page.fill("#id_password", "demo-pass-1")
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")
    assert page.locator("h1.page-title").inner_text().startswith("Welcome")
    assert page.locator("#panel-catalogue").is_visible()

    page.select_option("#language-select", "zh-hant")
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement.lang === 'zh-Hant'")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert "歡迎" in page.locator("h1.page-title").inner_text()

    page.select_option("#language-select", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("h1.page-title").inner_text().startswith("Welcome")

    page.click("a[aria-label='Account']")
    page.click("#sign-out")
    page.wait_for_url("**/accounts/login/**")
    page.goto(page.base_url + "/")
    assert "/accounts/login/" in page.url
