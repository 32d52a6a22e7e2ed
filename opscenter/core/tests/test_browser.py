"""In Debian's Chromium: sign in, switch the language, sign out."""

import pytest

from opscenter.core.demo import seed_organisation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_switch_language_sign_out(browser_page) -> None:  # noqa: ANN001
    page = browser_page
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
