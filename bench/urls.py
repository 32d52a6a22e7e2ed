"""The project's URLs and one more, served only by the benchmark: the bare floor, a trivial `login_required`
view. It costs what every signed-in page pays before its own work (the middleware, the session and its user,
URL resolution, a response), so a scenario's share of it says how much of the framework's best a page keeps.
It comes first in the list: its resolution tries no other pattern."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from opscenter.urls import urlpatterns as project_urlpatterns

BARE_FLOOR_PATH = "/bench/bare/"


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    """A signed-in user's request that does nothing: the least a page can cost under these settings."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path(BARE_FLOOR_PATH.strip("/") + "/", bare, name="bench-bare"), *project_urlpatterns]
