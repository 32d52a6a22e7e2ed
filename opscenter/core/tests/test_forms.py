"""The kernel's ReferenceChoiceField: the choices Django's ModelChoiceField gives, kept in the cache until a row
of the model is saved or deleted, in the reader's language."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from opscenter.core.forms import ReferenceChoiceField
from opscenter.core.models import Team
from opscenter.core.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


class Filters(forms.Form):
    team = ReferenceChoiceField(Team.objects.filter(is_active=True), cache_key="test-teams", required=False,
                                empty_label="Any team", to_field_name="code")


class Plain(forms.Form):
    team = forms.ModelChoiceField(Team.objects.filter(is_active=True), required=False, empty_label="Any team",
                                  to_field_name="code")


def choices(form: forms.Form) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in form.fields["team"].choices]


def test_the_choices_are_djangos_and_read_once() -> None:
    TeamFactory(code="net", name="Network"), TeamFactory(code="sys", name="Systems")
    TeamFactory(code="old", name="Retired", is_active=False)
    assert choices(Filters()) == choices(Plain())
    assert ("net", "Network") in choices(Filters()) and ("old", "Retired") not in choices(Filters())
    with CaptureQueriesContext(connection) as queries:
        html = str(Filters()["team"])
    assert len(queries) == 0
    assert '<option value="sys">Systems</option>' in html and '<option value="" selected>Any team</option>' in html


def test_a_saved_or_deleted_row_shows_at_once() -> None:
    team = TeamFactory(code="net", name="Network")
    choices(Filters())
    team.name = "Network operations"
    team.save()
    assert ("net", "Network operations") in choices(Filters())
    TeamFactory(code="dsk", name="Desktop")
    assert ("dsk", "Desktop") in choices(Filters())
    team.delete()
    assert [code for code, _label in choices(Filters())] == ["", "dsk"]


def test_choosing_still_validates_against_the_database() -> None:
    team = TeamFactory(code="net", name="Network")
    choices(Filters())
    form = Filters({"team": "net"})
    assert form.is_valid() and form.cleaned_data["team"] == team
    Team.objects.filter(pk=team.pk).update(is_active=False)  # no signal: the list is stale, the choice is not
    form = Filters({"team": "net"})
    assert not form.is_valid() and "team" in form.errors
    assert not Filters({"team": "nope"}).is_valid()


def test_each_language_keeps_its_own_list() -> None:
    from incidents.forms import IncidentFilterForm  # categories are named in both languages
    from incidents.models import Category

    Category.objects.create(code="printing", name="Printing", name_zh_hant="列印")

    def labels() -> dict[str, str]:
        return {str(value): str(label) for value, label in IncidentFilterForm(user=None).fields["category"].choices}

    with translation.override("zh-hant"):
        assert labels()["printing"] == "列印"
    with translation.override("en"):
        assert labels()["printing"] == "Printing"
