"""The written-out widgets draw exactly what Django's widget templates draw."""

import datetime

import pytest
from django import forms
from django.utils.safestring import mark_safe

from incidents.forms import IncidentFilterForm
from opscenter.core import roles
from opscenter.core.forms import DateInput, DateTimeLocalInput, style_widgets
from opscenter.core.widgets import INPUT_TEMPLATES, FastInputMixin, FastSelect, fast_class, write_out

ATTRS = [
    {},
    {"class": "form-control", "placeholder": "Number, title or “phenomenon” & <more>", "required": True},
    {"class": "form-control is-invalid", "hx-get": "/x/?a=1&b=2", "disabled": False, "maxlength": 200,
     "data-safe": mark_safe("<i>already safe</i>"), "autofocus": True},
]
VALUES = [None, "", "plain", "a & <b>\"quoted\" 'single'", mark_safe("<b>safe</b>"), 42, 3.5,
          datetime.date(2026, 11, 28), datetime.datetime(2026, 11, 28, 9, 5, 7)]
INPUTS = [forms.TextInput, forms.SearchInput, forms.NumberInput, forms.EmailInput, forms.URLInput, forms.TelInput,
          forms.ColorInput, forms.HiddenInput, forms.FileInput, forms.DateInput, forms.DateTimeInput, forms.TimeInput,
          DateTimeLocalInput, DateInput]


def django_markup(widget: forms.Widget, name: str, value: object, attrs: dict) -> str:
    return widget.render(name, value, attrs=attrs)


@pytest.mark.parametrize("widget_class", INPUTS, ids=lambda c: c.__name__)
def test_written_out_inputs_draw_what_djangos_templates_draw(widget_class: type[forms.Widget]) -> None:
    fast = fast_class(widget_class)
    assert fast is not None and issubclass(fast, (FastInputMixin, widget_class))
    for attrs in ATTRS:
        for value in VALUES:
            for extra in ({"id": "id_q"}, {"id": "id_<q>", "aria-describedby": "help & more"}):
                expected = widget_class(attrs=dict(attrs)).render("q&<x>", value, attrs=dict(extra))
                assert fast(attrs=dict(attrs)).render("q&<x>", value, attrs=dict(extra)) == expected


def test_the_input_templates_are_what_the_written_out_inputs_write() -> None:
    """Each template the written-out inputs stand for only includes input.html (checked against Django's)."""
    from pathlib import Path

    import django

    root = Path(django.__file__).parent / "forms" / "templates"
    for name in INPUT_TEMPLATES - {"django/forms/widgets/input.html"}:
        assert (root / name).read_text().strip() == '{% include "django/forms/widgets/input.html" %}', name


def test_fast_select_renders_what_djangos_select_renders() -> None:
    choices = [("", "Any"), ("a", "A & <b>"), ("Group & <g>", [("g1", "G1"), ("g2", mark_safe("<i>G2</i>"))]),
               (None, "None"), (3, "three"), ("a", "A again"), ("q\"'", "quotes \" '")]
    for attrs in ATTRS:
        for value in ("a", "g2", "", None, 3, "3", "missing", "q\"'"):
            expected = forms.Select(attrs=attrs, choices=choices).render("f", value, attrs={"id": "id_f"})
            assert FastSelect(attrs=attrs, choices=choices).render("f", value, attrs={"id": "id_f"}) == (
                expected.replace("\n", "").replace("  ", ""))
    multiple = forms.SelectMultiple(choices=choices).render("f", ["a", "g2"])
    fast = FastSelect(choices=choices)
    fast.allow_multiple_selected = True
    assert fast.render("f", ["a", "g2"]) == multiple.replace("\n", "").replace("  ", "")


@pytest.mark.parametrize("widget_class", [forms.PasswordInput, forms.CheckboxInput, forms.ClearableFileInput,
                                          forms.Textarea,
                                          forms.SelectMultiple, forms.RadioSelect, forms.MultipleHiddenInput],
                         ids=lambda c: c.__name__)
def test_widgets_with_their_own_template_or_context_keep_it(widget_class: type[forms.Widget]) -> None:
    widget = widget_class()
    write_out(widget)
    assert type(widget) is widget_class


def test_styled_forms_write_their_inputs_out_and_stay_idempotent() -> None:
    class Form(forms.Form):
        text = forms.CharField()
        when = forms.DateTimeField(widget=DateTimeLocalInput())
        secret = forms.CharField(widget=forms.PasswordInput())
        choice = forms.ChoiceField(choices=[("a", "A")])

    form = Form()
    style_widgets(form)
    widgets = {name: field.widget for name, field in form.fields.items()}
    assert isinstance(widgets["text"], FastInputMixin) and isinstance(widgets["text"], forms.TextInput)
    assert isinstance(widgets["when"], FastInputMixin) and isinstance(widgets["when"], DateTimeLocalInput)
    assert type(widgets["secret"]) is forms.PasswordInput
    assert type(widgets["choice"]) is FastSelect
    for widget in widgets.values():  # a second pass changes nothing
        before = type(widget)
        write_out(widget)
        assert type(widget) is before
    html = str(form["when"])
    assert html.startswith('<input type="datetime-local" name="when"') and 'class="form-control' in html


def test_the_queue_filter_bar_is_drawn_as_django_draws_it(make_user) -> None:  # noqa: ANN001
    """The whole filter bar of the queue, bound to awkward input, written out and through Django's templates."""
    user = make_user(roles.DUTY_OFFICER)
    data = {"q": "<script>alert('x')</script> & \"more\"", "state": "handling", "priority": "nonsense",
            "sort": "priority"}
    form = IncidentFilterForm(data, user=user)
    form.choice_records()
    form.is_valid()
    written = {field.name: str(field) for field in form}
    for field in form.fields.values():
        field.widget.__class__ = next(c for c in type(field.widget).__mro__
                                      if c.__module__.startswith("django."))
    for field in form:
        expected = str(field)
        if isinstance(field.field.widget, forms.Select):  # the select template's line breaks and indents
            expected = expected.replace("\n", "").replace("  ", "")
        assert written[field.name] == expected
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;more&quot;" in written["q"]
