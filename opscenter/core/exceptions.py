"""Errors of the workflow kernel, each carrying the HTTP status and the JSON code it maps to."""

from django.utils.translation import gettext_lazy as _


class OpsCenterError(Exception):
    """A refusal a person can understand: a code for machines and a sentence for people."""

    status_code = 400
    code = "invalid"
    default_detail = _("The request is not valid.")

    def __init__(self, detail: object = None, *, code: str | None = None, extra: dict | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        if code:
            self.code = code
        # More keys for the JSON body beside code and detail (e.g. the conflicts to acknowledge).
        self.extra = extra or {}
        super().__init__(str(self.detail))


class InvalidInput(OpsCenterError):
    status_code = 400
    code = "invalid"


class UnknownTransition(OpsCenterError):
    status_code = 400
    code = "unknown_transition"
    default_detail = _("There is no such transition.")


class TransitionForbidden(OpsCenterError):
    status_code = 403
    code = "permission_denied"
    default_detail = _("You are not allowed to perform this transition.")


class NotFound(OpsCenterError):
    """A record the request names that does not exist or that the user may not see: the same answer for both,
    so that it tells nothing about what others see."""

    status_code = 404
    code = "not_found"
    default_detail = _("Not found.")


class InvalidState(OpsCenterError):
    status_code = 409
    code = "invalid_state"
    default_detail = _("This transition is not allowed from the current state.")


class ConditionFailed(OpsCenterError):
    status_code = 409
    code = "condition_failed"
    default_detail = _("A rule of the policy blocks this transition.")


class ConcurrentChange(OpsCenterError):
    status_code = 409
    code = "concurrent_change"
    default_detail = _("Someone else changed this record at the same time. Reload and try again.")


class ReadOnlyRecord(OpsCenterError):
    status_code = 409
    code = "read_only"
    default_detail = _("This record is closed and can no longer be changed.")


def detail_text(detail: object) -> str:
    """A refusal's detail (a sentence, a list, or messages by field) as one line for a page message."""
    if isinstance(detail, dict):
        return " ".join(str(m) for msgs in detail.values()
                        for m in (msgs if isinstance(msgs, (list, tuple)) else [msgs]))
    if isinstance(detail, (list, tuple)):
        return " ".join(str(m) for m in detail)
    return str(detail)
