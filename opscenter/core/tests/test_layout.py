"""The layout's addresses: links reversed once per script prefix, static files' addresses read once."""

import json

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
