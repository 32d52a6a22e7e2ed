"""Every API error as JSON {"code": …, "detail": …} (DESIGN §6), never an HTML page or a 500."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from opscenter.core.exceptions import OpsCenterError

logger = logging.getLogger(__name__)


def error_response(code: str, detail: Any, status_code: int, extra: dict | None = None) -> Response:
    return Response({"code": code, "detail": detail, **(extra or {})}, status=status_code)


def _holds_nul(value: Any) -> bool:
    """Whether a parsed request value (text, or lists and mappings of them, keys included) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if hasattr(value, "lists"):  # a QueryDict: every value of every key
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.lists())
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def exception_handler(exc: Exception, context: dict) -> Response | None:
    request = context.get("request")
    if isinstance(exc, DataError) and request is not None and _holds_nul(request.data):
        # Text fields refuse NUL themselves; a value looked up by it (a category's code) reaches PostgreSQL, which
        # cannot store or compare it: the request is at fault, and nothing it wrote is kept.
        set_rollback()
        return error_response("invalid", "A value of the request holds a NUL character.", status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OpsCenterError):
        return error_response(exc.code, exc.detail, exc.status_code, exc.extra)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return error_response("invalid", detail, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError):
        return error_response("protected", "This record is still referenced and cannot be deleted.",
                              status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return error_response("invalid", response.data, response.status_code)
    detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    code = codes if isinstance(codes, str) else "error"
    response.data = {"code": code, "detail": detail}
    return response
