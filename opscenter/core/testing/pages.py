"""Helpers of the page tests every app writes: a signed-in browser client, a response's text and messages, and the
number of queries a page costs."""

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def signed_in(user: Any, language: str = "en") -> Client:
    """A test client signed in as the user, asking for pages in `language`."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def page_messages(response: Any) -> list[str]:
    """The messages the page shows (refusals, confirmations)."""
    return [str(m) for m in response.context["messages"]]


def page_queries(client: Client, url: str, params: dict[str, Any] | None = None) -> int:
    """How many queries one GET of the page costs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)
