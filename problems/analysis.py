"""The root-cause analysis as structure (問題分析): a fishbone — causes per category — and a 5-whys chain, checked
and put in a canonical form before they are stored; a malformed one is refused naming the field and the place."""

import json
from typing import Any

from django.utils.translation import gettext as _

from opscenter.core.exceptions import InvalidInput
from problems.choices import ActionState, FishboneCategory

MAX_CAUSES = 20  # per category
MAX_WHYS = 10
MAX_TEXT = 500  # characters of one cause, one why or one because


def _text(value: Any) -> str | None:
    """A cause or an answer as stored (stripped); None when it is not a piece of text."""
    return value.strip() if isinstance(value, str) else None


def clean_fishbone(value: Any) -> dict[str, list[str]]:
    """The fishbone {category: [cause, …]} in the categories' order, blank causes and empty categories left out.
    Refused (400, under `fishbone`, per category) when it is not an object of lists of texts, names a category
    that is not one, or holds too many or too long causes."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise InvalidInput({"fishbone": [_("Give the causes per category: an object of lists of texts.")]})
    known = FishboneCategory.values
    errors: dict[str, list[str]] = {}
    for key in value:
        if key not in known:
            errors[str(key)] = [_("“%(key)s” is not a fishbone category. Use one of: %(known)s.") % {
                "key": key, "known": ", ".join(known)}]
    cleaned: dict[str, list[str]] = {}
    for category in known:
        causes = value.get(category, [])
        if causes is None:
            continue
        if not isinstance(causes, list):
            errors[category] = [_("Give the causes as a list of texts.")]
            continue
        texts = [_text(cause) for cause in causes]
        if any(text is None for text in texts):
            errors[category] = [_("Each cause is a text.")]
        elif any(len(text) > MAX_TEXT for text in texts):
            errors[category] = [_("A cause is at most %(max)d characters.") % {"max": MAX_TEXT}]
        elif len([t for t in texts if t]) > MAX_CAUSES:
            errors[category] = [_("At most %(max)d causes per category.") % {"max": MAX_CAUSES}]
        elif any(texts):
            cleaned[category] = [text for text in texts if text]
    if errors:
        raise InvalidInput({"fishbone": errors})
    return cleaned


def clean_five_whys(value: Any) -> list[dict[str, str]]:
    """The 5-whys chain [{"why", "because"}, …] in order, wholly blank steps left out. Refused (400, under
    `five_whys`, per step) when it is not a list of such objects, a step lacks one half or has other keys, or the
    chain or a text is too long."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise InvalidInput({"five_whys": [_('Give the chain as a list of {"why": …, "because": …} steps.')]})
    if len(value) > MAX_WHYS:
        raise InvalidInput({"five_whys": [_("At most %(max)d steps.") % {"max": MAX_WHYS}]})
    errors: dict[str, Any] = {}
    cleaned: list[dict[str, str]] = []
    for index, step in enumerate(value):
        if not isinstance(step, dict):
            errors[str(index)] = [_('A step is an object {"why": …, "because": …}.')]
            continue
        faults: dict[str, list[str]] = {}
        for key in sorted(set(step) - {"why", "because"}):
            faults[str(key)] = [_("This field is not accepted here.")]
        why, because = _text(step.get("why", "")), _text(step.get("because", ""))
        for key, text in (("why", why), ("because", because)):
            if text is None:
                faults[key] = [_("Write a text.")]
            elif len(text) > MAX_TEXT:
                faults[key] = [_("At most %(max)d characters.") % {"max": MAX_TEXT}]
        if not faults and bool(why) != bool(because):
            faults["because" if why else "why"] = [_("Each step needs both the question and its answer.")]
        if faults:
            errors[str(index)] = faults
        elif why:
            cleaned.append({"why": why, "because": because})
    if errors:
        raise InvalidInput({"five_whys": errors})
    return cleaned


def fishbone_rows(fishbone: dict[str, list[str]] | None) -> list[dict[str, Any]]:
    """Every category of the fishbone, in order, with its label and its causes (empty ones too): how pages and
    the API show the structure."""
    fishbone = fishbone or {}
    return [{"category": value, "label": str(label), "causes": list(fishbone.get(value, []))}
            for value, label in FishboneCategory.choices]


def as_record(value: Any) -> str:
    """A structure as the timeline keeps it: JSON ("" for an empty one), worded for each reader by `worded`."""
    return json.dumps(value, ensure_ascii=False) if value else ""


def worded(field: str, stored: str) -> str:
    """A timeline record of the analysis or of an action in the reader's words: a fishbone "People: a; b ·
    Process: c", a 5-whys chain "1. why → because", an action "measure · owner · due date · state". A record
    that is not such data is shown as it is."""
    try:
        value = json.loads(stored) if stored else None
    except ValueError:
        return stored
    if not value:
        return ""
    if field == "fishbone" and isinstance(value, dict):
        return " · ".join(f"{row['label']}: {'; '.join(row['causes'])}" for row in fishbone_rows(value)
                          if row["causes"])
    if field == "five_whys" and isinstance(value, list):
        return "\n".join(f"{n}. {step.get('why', '')} → {step.get('because', '')}"
                         for n, step in enumerate(value, start=1) if isinstance(step, dict))
    if field == "actions" and isinstance(value, dict):
        state = value.get("state", "")
        label = ActionState(state).label if state in ActionState.values else state
        return " · ".join([value.get("measure", ""), value.get("owner") or "—", value.get("due_date") or "—",
                           str(label)])
    return stored
