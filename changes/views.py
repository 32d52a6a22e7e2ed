"""Change management pages."""

from django.http import Http404, HttpRequest, HttpResponse


def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404
