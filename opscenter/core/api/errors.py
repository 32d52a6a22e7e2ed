"""Every API error as JSON {"code": …, "detail": …} (DESIGN §6), never an HTML page or a 500."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opscenter.core.exceptions import OpsCenterError

logger = logging.getLogger(__name__)


def error_response(code: str, detail: Any, status_code: int, extra: dict | None = None) -> Response:
    return Response({"code": code, "detail": detail, **(extra or {})}, status=status_code)


def exception_handler(exc: Exception, context: dict) -> Response | None:
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
