"""Page-number pagination with a client-chosen page size, capped, and a count that stops at a thousand."""

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from opscenter.core.pagination import CappedCountPaginator


class StandardPagination(PageNumberPagination):
    """`count` is the number of results when there are at most 1,000 (or as many as the pages up to the
    one asked for hold), and null beyond: counting every row cost more than the page itself. `next` is
    always right; `page=last` counts everything."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedCountPaginator

    def get_page_number(self, request: Request, paginator: Paginator) -> Any:
        if (request.query_params.get(self.page_query_param) in self.last_page_strings
                and isinstance(paginator, CappedCountPaginator)):
            paginator.count_everything()  # before the parent asks for the number of pages
        return super().get_page_number(request, paginator)

    def get_paginated_response(self, data: Any) -> Response:
        paginator = self.page.paginator
        exact = getattr(paginator, "count_is_exact", True)
        return Response({
            "count": paginator.count if exact else None,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"].update({
            "nullable": True,
            "description": "The number of results; null when there are more than 1,000 "
                           "(follow `next`, or ask for page=last).",
        })
        return response
