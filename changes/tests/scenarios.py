"""What the change tests read back after a step: the change fresh from the database, its transition log and
the field changes on its timeline."""

from django.contrib.contenttypes.models import ContentType

from changes.models import Change
from opscenter.core.models import FieldChange, TransitionLog


def reload(change: Change) -> Change:
    return Change.objects.get(pk=change.pk)


def logs(change: Change) -> list[TransitionLog]:
    return list(TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Change),
                                             object_id=change.pk).order_by("pk"))


def field_changes(change: Change) -> list[FieldChange]:
    return list(FieldChange.objects.filter(content_type=ContentType.objects.get_for_model(Change),
                                           object_id=change.pk).order_by("pk"))
