"""Every string of every page exists in Traditional Chinese, and the compiled catalogue is current."""

from pathlib import Path

import polib
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"


def _translations(entries) -> dict:  # noqa: ANN001
    return {(e.msgctxt, e.msgid): (e.msgstr or e.msgstr_plural.get(0) or e.msgstr_plural.get("0")) for e in entries}


def test_every_message_is_translated_to_traditional_chinese() -> None:
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []


def test_compiled_catalogue_matches_the_source() -> None:
    po = polib.pofile(str(PO))
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    assert _translations(po.translated_entries()) == {k: v for k, v in _translations(mo).items() if k[1]}


def test_the_periodic_tasks_admin_names_its_models_with_strings_the_catalogue_keeps() -> None:
    """django_celery_beat has no zh-Hant catalogue: the names the admin shows of its app and models are listed in
    opscenter.core.third_party_strings, so that `make messages` keeps their translations."""
    from django.apps import apps
    from django.utils import translation

    from opscenter.core.third_party_strings import PERIODIC_TASKS

    beat = apps.get_app_config("django_celery_beat")
    with translation.override("en"):
        names = {str(beat.verbose_name)}
        for model in beat.get_models():
            names |= {str(model._meta.verbose_name), str(model._meta.verbose_name_plural)}
    assert names <= set(PERIODIC_TASKS), names - set(PERIODIC_TASKS)
