"""The layout's addresses: links reversed once per script prefix, static files' addresses read once."""

import json
import os
from pathlib import Path

import pytest
from django.urls import reverse, set_script_prefix

from opscenter.core.navigation import reverse_once
from opscenter.core.storage import StaticFilesStorage


def test_a_layout_address_follows_the_script_prefix_it_is_served_under() -> None:
    path = reverse("notifications")
    assert reverse_once("notifications") == path
    try:
        set_script_prefix("/ops/")
        assert reverse_once("notifications") == "/ops" + path and reverse_once("home") == "/ops/"
    finally:
        set_script_prefix("/")
    assert reverse_once("notifications") == path and reverse_once("home") == "/"


@pytest.fixture
def storage(tmp_path, settings) -> StaticFilesStorage:  # noqa: ANN001
    settings.DEBUG = False
    (tmp_path / "staticfiles.json").write_text(json.dumps(
        {"version": "1.1", "paths": {"css/site.css": "css/site.0123abcd.css"}, "hash": "x"}))
    return StaticFilesStorage(location=str(tmp_path), base_url="/static/")


def test_a_static_files_address_is_its_hashed_name_worked_out_once(storage: StaticFilesStorage) -> None:
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    storage.hashed_files["css/site.css"] = "css/site.99.css"  # the manifest is read when the process starts
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    assert storage.url("css/site.css", force=True) == "/static/css/site.99.css"


def test_a_file_missing_from_the_manifest_is_refused_each_time_not_remembered(storage: StaticFilesStorage) -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/gone.css")
    storage.hashed_files["css/gone.css"] = "css/gone.77.css"  # a manifest that has it since
    assert storage.url("css/gone.css") == "/static/css/gone.77.css"


# --- The navigation bar at 1366 × 768, in Debian's Chromium -------------------------------------------------

NAV_GEOMETRY = """() => {
  const items = [...document.querySelectorAll('#navbar-menu .navbar-nav > .nav-item')];
  const right = document.querySelector('header.navbar .order-md-last').getBoundingClientRect();
  const lineHeight = parseFloat(getComputedStyle(document.querySelector('#navbar-menu .nav-link')).lineHeight);
  return {
    labels: items.map(i => i.innerText.trim()),
    rows: new Set(items.map(i => Math.round(i.getBoundingClientRect().top))).size,
    wrapped: items.filter(i => i.querySelector('.nav-link-title').getBoundingClientRect().height > lineHeight * 1.5)
                  .map(i => i.innerText.trim()),
    navRight: Math.max(...items.map(i => i.getBoundingClientRect().right)),
    rightLeft: right.left,
    rightTops: new Set([...document.querySelectorAll('header.navbar .order-md-last > *')]
                       .map(e => e.getBoundingClientRect())
                       .map(r => Math.round(r.top + r.height / 2))).size,
    headerHeight: document.querySelector('header.navbar').getBoundingClientRect().height,
  };
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_navigation_fits_one_line_at_1366_pixels_for_every_role(browser_page, monkeypatch, language) -> None:  # noqa: ANN001
    """Every demo user, with one more entry than today's (the surveys a department user answers)."""
    from django.utils.translation import gettext_lazy as _

    from opscenter.core import navigation
    from opscenter.core.demo import USERS, seed_organisation

    monkeypatch.setattr(navigation, "_nav", [*navigation._nav,
                                             navigation.NavItem(_("Surveys"), "sla:survey-list", order=45)])
    seed_organisation("demo-pass-1")
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    shots = Path(os.environ.get("LAYOUT_SCREENSHOTS", "")) if os.environ.get("LAYOUT_SCREENSHOTS") else None
    for username, *_rest in USERS:
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
        page.goto(page.base_url + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "demo-pass-1")
        page.click("#sign-in")
        page.wait_for_url(page.base_url + "/")
        geometry = page.evaluate(NAV_GEOMETRY)
        if shots:
            page.screenshot(path=str(shots / f"nav-{language}-{username}.png"),
                            clip={"x": 0, "y": 0, "width": 1366, "height": 120})
        assert len(geometry["labels"]) >= 5, (username, geometry)
        assert geometry["rows"] == 1 and not geometry["wrapped"], (username, geometry)
        assert geometry["navRight"] <= geometry["rightLeft"], (username, geometry)  # nothing overlaps
        assert geometry["rightTops"] == 1 and geometry["headerHeight"] <= 60, (username, geometry)
