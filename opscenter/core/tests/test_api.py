"""The API as a client sees it: tokens, role permissions, error shape, notifications, ticket endpoints,
query counts that do not grow with the rows, and offline docs (DESIGN §6)."""

import re
from collections.abc import Callable

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from conftest import assert_error
from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, CIStatus, CIType, Criticality
from opscenter.core.models import Attachment, Comment, ConfigurationItem, Notification, Service, User
from opscenter.core.services import perform_transition
from opscenter.core.tests.factories import (
    ConfigurationItemFactory,
    DepartmentFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)
from opscenter.core.tests.workflow_app.models import WorkOrder

pytestmark = [pytest.mark.django_db, pytest.mark.urls("opscenter.core.tests.workflow_app.urls")]

SERVICES = "/api/v1/services/"
CIS = "/api/v1/configuration-items/"
NOTIFICATIONS = "/api/v1/notifications/"


# --- Tokens -----------------------------------------------------------------------------------------------


def test_token_from_username_and_password_identifies_the_user(api, make_user) -> None:  # noqa: ANN001
    make_user(roles.SYSTEM_ENGINEER, roles.DUTY_OFFICER, username="lin")
    response = api.post("/api/v1/auth/token/", {"username": "lin", "password": "pw"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "lin"
    assert me.json()["roles"] == [roles.DUTY_OFFICER, roles.SYSTEM_ENGINEER]


def test_token_refused_for_a_wrong_password(api, make_user) -> None:  # noqa: ANN001
    make_user(roles.SYSTEM_ENGINEER, username="lin")
    response = api.post("/api/v1/auth/token/", {"username": "lin", "password": "nope"}, format="json")
    assert_error(response, 400, "invalid")
    assert not AuthToken.objects.exists()


def test_wrong_token_is_401_json(api) -> None:  # noqa: ANN001
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert_error(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_no_credentials_is_401_json(api) -> None:  # noqa: ANN001
    assert_error(api.get("/api/v1/me/"), 401, "not_authenticated")
    assert_error(api.get(SERVICES), 401, "not_authenticated")


def test_token_of_an_inactive_user_is_401(api_as, make_user) -> None:  # noqa: ANN001
    user = make_user(roles.SUPERVISOR)
    client = api_as(user)
    assert client.get("/api/v1/me/").status_code == 200
    user.is_active = False
    user.save()
    assert_error(client.get("/api/v1/me/"), 401, "authentication_failed")
    assert_error(client.get(SERVICES), 401, "authentication_failed")


# --- Permissions by role, error shapes --------------------------------------------------------------------


def test_supervisor_creates_and_updates_a_service(api_as, supervisor) -> None:  # noqa: ANN001
    department = DepartmentFactory()
    team = TeamFactory()
    client = api_as(supervisor)
    created = client.post(SERVICES, {"code": "erp", "name": "ERP", "criticality": Criticality.CRITICAL,
                                     "owner_department": department.pk, "support_team": team.pk,
                                     "service_hours": "7×24"}, format="json")
    assert created.status_code == 201, created.content
    service = Service.objects.get(pk=created.json()["id"])
    assert (service.code, service.owner_department, service.support_team) == ("erp", department, team)

    updated = client.patch(f"{SERVICES}{service.pk}/", {"name": "ERP system", "is_active": False}, format="json")
    assert updated.status_code == 200
    assert updated.json()["name"] == "ERP system"
    service.refresh_from_db()
    assert (service.name, service.is_active) == ("ERP system", False)


def test_supervisor_creates_and_updates_a_configuration_item(api_as, supervisor) -> None:  # noqa: ANN001
    email, erp = ServiceFactory(), ServiceFactory()
    client = api_as(supervisor)
    created = client.post(CIS, {"name": "erp-db-01", "ci_type": CIType.DATABASE, "asset_tag": "DB-0001",
                                "services": [erp.pk]}, format="json")
    assert created.status_code == 201, created.content
    ci = ConfigurationItem.objects.get(pk=created.json()["id"])
    assert (ci.name, ci.status, list(ci.services.all())) == ("erp-db-01", CIStatus.IN_USE, [erp])

    updated = client.put(f"{CIS}{ci.pk}/", {"name": "erp-db-01", "ci_type": CIType.DATABASE, "asset_tag": "DB-0001",
                                            "status": CIStatus.MAINTENANCE, "services": [erp.pk, email.pk]},
                         format="json")
    assert updated.status_code == 200, updated.content
    ci.refresh_from_db()
    assert ci.status == CIStatus.MAINTENANCE
    assert set(ci.services.all()) == {erp, email}


def test_engineer_lists_configuration_items_but_may_not_create_them(api_as, make_user) -> None:  # noqa: ANN001
    ConfigurationItemFactory(name="core-sw-01")
    client = api_as(make_user(roles.NETWORK_ENGINEER))
    listing = client.get(CIS)
    assert listing.status_code == 200
    assert [row["name"] for row in listing.json()["results"]] == ["core-sw-01"]

    refused = client.post(CIS, {"name": "core-sw-02", "ci_type": CIType.NETWORK_DEVICE}, format="json")
    assert_error(refused, 403, "permission_denied")
    assert_error(client.patch(f"{CIS}{listing.json()['results'][0]['id']}/", {"name": "x"}, format="json"), 403)
    assert list(ConfigurationItem.objects.values_list("name", flat=True)) == ["core-sw-01"]


def test_department_user_reads_services_but_not_configuration_items(api_as, make_user) -> None:  # noqa: ANN001
    ServiceFactory(name="Email")
    ConfigurationItemFactory()
    client = api_as(make_user(roles.DEPARTMENT_USER, department=DepartmentFactory()))
    services = client.get(SERVICES)
    assert services.status_code == 200
    assert [row["name"] for row in services.json()["results"]] == ["Email"]
    assert_error(client.get(CIS), 403, "permission_denied")
    assert_error(client.post(SERVICES, {"code": "x", "name": "X"}, format="json"), 403, "permission_denied")


def test_unknown_id_is_404_json(api_as, supervisor) -> None:  # noqa: ANN001
    client = api_as(supervisor)
    assert_error(client.get(f"{SERVICES}999999/"), 404, "not_found")
    assert_error(client.patch(f"{CIS}999999/", {"name": "x"}, format="json"), 404, "not_found")


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        (SERVICES, {"code": "erp"}, "name"),
        (SERVICES, {"code": "erp", "name": "ERP", "criticality": "apocalyptic"}, "criticality"),
        (SERVICES, {"code": "not a slug!", "name": "ERP"}, "code"),
        (CIS, {"ci_type": CIType.SERVER}, "name"),
        (CIS, {"name": "erp-app-01", "ci_type": "toaster"}, "ci_type"),
        (CIS, {"name": "erp-app-01", "ci_type": CIType.SERVER, "services": [999999]}, "services"),
    ],
)
def test_invalid_data_is_400_naming_the_field_and_creates_nothing(  # noqa: ANN001
    api_as, supervisor, url, data, field
) -> None:
    body = assert_error(api_as(supervisor).post(url, data, format="json"), 400, "invalid")
    assert isinstance(body["detail"], dict)
    assert field in body["detail"] and body["detail"][field], body
    assert not Service.objects.exists() and not ConfigurationItem.objects.exists()


def test_duplicate_service_code_is_400_and_keeps_the_original(api_as, supervisor) -> None:  # noqa: ANN001
    ServiceFactory(code="erp", name="ERP")
    body = assert_error(api_as(supervisor).post(SERVICES, {"code": "erp", "name": "Other"}, format="json"), 400)
    assert "code" in body["detail"]
    assert list(Service.objects.values_list("name", flat=True)) == ["ERP"]


# --- Notifications ----------------------------------------------------------------------------------------


def deliver(django_capture_on_commit_callbacks, recipients, *subjects: str) -> None:  # noqa: ANN001
    """Write notifications and run the after-commit delivery (Celery is eager in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        for subject in subjects:
            outbox.notify(event="test.event", recipients=recipients, subject=subject, webhooks=False)


def test_notifications_list_only_the_callers_delivered_in_app_messages(  # noqa: ANN001
    api_as, make_user, django_capture_on_commit_callbacks
) -> None:
    me, other = make_user(roles.SYSTEM_ENGINEER), make_user(roles.SYSTEM_ENGINEER)
    deliver(django_capture_on_commit_callbacks, [me], "Disk full on erp-db-01", "P1 incident assigned")
    deliver(django_capture_on_commit_callbacks, [other], "Someone else's message")
    # Written but never delivered (no commit ran): not in anyone's list yet.
    outbox.notify(event="test.event", recipients=[me], subject="Still pending", webhooks=False)
    assert Notification.objects.filter(recipient=me, channel=Channel.EMAIL).exists()

    response = api_as(me).get(NOTIFICATIONS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["subject"] for row in rows] == ["P1 incident assigned", "Disk full on erp-db-01"]
    assert all(row["read_at"] is None for row in rows)


def test_marking_notifications_read(api_as, make_user, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    me, other = make_user(roles.SYSTEM_ENGINEER), make_user(roles.SYSTEM_ENGINEER)
    deliver(django_capture_on_commit_callbacks, [me, other], "one", "two", "three")
    client = api_as(me)
    first = client.get(NOTIFICATIONS).json()["results"][0]["id"]

    response = client.post(f"{NOTIFICATIONS}read/", {"ids": [first]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}

    response = client.post(f"{NOTIFICATIONS}read/", {}, format="json")
    assert response.json() == {"marked": 2, "unread": 0}
    assert all(row["read_at"] for row in client.get(NOTIFICATIONS).json()["results"])
    # The other user's copies stay unread.
    assert outbox.unread_count(other) == 3


def test_another_users_notifications_can_never_be_read_or_marked(  # noqa: ANN001
    api_as, make_user, django_capture_on_commit_callbacks
) -> None:
    me, other = make_user(roles.SYSTEM_ENGINEER), make_user(roles.SYSTEM_ENGINEER)
    deliver(django_capture_on_commit_callbacks, [other], "private")
    theirs = list(outbox.inbox(other).values_list("pk", flat=True))
    client = api_as(me)
    assert client.get(NOTIFICATIONS).json()["results"] == []
    body = assert_error(client.post(f"{NOTIFICATIONS}read/", {"ids": theirs}, format="json"), 404)
    assert body["code"] == "not_found"
    assert outbox.unread_count(other) == 1


# --- Ticket endpoints (WorkOrder: draft → submitted → approved → done) ------------------------------------


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # noqa: ANN001
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(make_user):  # noqa: ANN001, ANN201
    return make_user(roles.DEPARTMENT_USER, username="owner", department=DepartmentFactory(code="finance"))


@pytest.fixture
def order(owner) -> WorkOrder:  # noqa: ANN001
    return WorkOrder.objects.create(title="Replace toner", created_by=owner)


def url(order: WorkOrder, suffix: str = "") -> str:
    return f"/api/v1/work-orders/{order.pk}/{suffix}"


def submitted(order: WorkOrder, owner, *, estimate: int | None = None) -> WorkOrder:  # noqa: ANN001
    perform_transition(order, "submit", user=owner)
    if estimate is not None:
        WorkOrder.objects.filter(pk=order.pk).update(estimate_hours=estimate)
    return WorkOrder.objects.get(pk=order.pk)


def test_owner_submits_through_the_api(api_as, owner, order) -> None:  # noqa: ANN001
    response = api_as(owner).post(url(order, "transitions/submit/"), {"comment": "please"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert response.json()["available_transitions"] == ["cancel"]
    order.refresh_from_db()
    assert order.state == "submitted"


def test_department_user_of_another_department_gets_404(api_as, make_user, order) -> None:  # noqa: ANN001
    stranger = make_user(roles.DEPARTMENT_USER, department=DepartmentFactory(code="hr"))
    client = api_as(stranger)
    assert_error(client.get(url(order)), 404, "not_found")
    assert_error(client.post(url(order, "transitions/submit/"), {}, format="json"), 404, "not_found")
    assert client.get("/api/v1/work-orders/").json()["results"] == []
    order.refresh_from_db()
    assert order.state == "draft"


def test_visible_user_without_the_permission_gets_403(api_as, make_user, order) -> None:  # noqa: ANN001
    engineer = make_user(roles.SYSTEM_ENGINEER)
    client = api_as(engineer)
    assert client.get(url(order)).status_code == 200
    assert_error(client.post(url(order, "transitions/submit/"), {}, format="json"), 403, "permission_denied")
    order.refresh_from_db()
    assert order.state == "draft"


def test_transition_not_leaving_the_current_state_is_409(api_as, supervisor, order) -> None:  # noqa: ANN001
    body = assert_error(api_as(supervisor).post(url(order, "transitions/approve/"), {}, format="json"), 409,
                        "invalid_state")
    assert "approve" in body["detail"]
    order.refresh_from_db()
    assert order.state == "draft"


def test_blocked_condition_is_409_with_the_policy_reason(api_as, supervisor, owner, order) -> None:  # noqa: ANN001
    submitted(order, owner)
    body = assert_error(api_as(supervisor).post(url(order, "transitions/approve/"), {}, format="json"), 409,
                        "condition_failed")
    assert body["detail"] == "An estimate is required before approval (test policy §1)."
    order.refresh_from_db()
    assert order.state == "submitted"


def test_unknown_transition_is_400(api_as, owner, order) -> None:  # noqa: ANN001
    body = assert_error(api_as(owner).post(url(order, "transitions/explode/"), {}, format="json"), 400,
                        "unknown_transition")
    assert "explode" in body["detail"]


@pytest.mark.parametrize("result", ["", "   ", None])
def test_finish_without_a_result_is_400(api_as, supervisor, owner, order, result) -> None:  # noqa: ANN001
    submitted(order, owner, estimate=2)
    perform_transition(order, "approve", user=supervisor)
    data = {} if result is None else {"result": result}
    body = assert_error(api_as(supervisor).post(url(order, "transitions/finish/"), data, format="json"), 400,
                        "invalid")
    assert "result" in body["detail"]
    order.refresh_from_db()
    assert (order.state, order.result) == ("approved", "")


def test_finish_with_a_result_records_it(api_as, supervisor, owner, order) -> None:  # noqa: ANN001
    submitted(order, owner, estimate=2)
    perform_transition(order, "approve", user=supervisor)
    response = api_as(supervisor).post(url(order, "transitions/finish/"),
                                       {"result": "Toner replaced", "comment": "done"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["result"]) == ("done", "Toner replaced")
    assert response.json()["available_transitions"] == []


def test_detail_shows_the_transitions_the_caller_may_take(api_as, owner, supervisor, order) -> None:  # noqa: ANN001
    assert api_as(owner).get(url(order)).json()["available_transitions"] == ["submit", "cancel"]
    assert api_as(supervisor).get(url(order)).json()["available_transitions"] == []
    submitted(order, owner)
    # Approve is blocked by its condition: not offered until the estimate is there.
    assert api_as(supervisor).get(url(order)).json()["available_transitions"] == []
    WorkOrder.objects.filter(pk=order.pk).update(estimate_hours=3)
    assert api_as(supervisor).get(url(order)).json()["available_transitions"] == ["approve"]


def test_available_transitions_lists_blocked_ones_with_the_reason(api_as, owner, supervisor, order) -> None:  # noqa: ANN001
    submitted(order, owner)
    response = api_as(supervisor).get(url(order, "available-transitions/"))
    assert response.status_code == 200
    assert response.json() == [{"name": "approve", "label": "Approve", "target": "approved", "allowed": False,
                                "reason": "An estimate is required before approval (test policy §1)."}]
    assert [t["name"] for t in api_as(owner).get(url(order, "available-transitions/")).json()] == ["cancel"]


def test_timeline_shows_the_transition_with_its_actor(api_as, owner, order) -> None:  # noqa: ANN001
    owner.display_name = "蔡財務"
    owner.save()
    client = api_as(owner)
    client.post(url(order, "transitions/submit/"), {"comment": "please"}, format="json")
    response = client.get(url(order, "timeline/"))
    assert response.status_code == 200
    [entry] = response.json()
    assert entry["kind"] == "transition" and entry["actor"] == "蔡財務"
    assert entry["detail"] == {"transition": "submit", "from": "draft", "to": "submitted", "comment": "please",
                               "data": {}}


def test_comments_internal_flag_only_for_it_staff(api_as, owner, make_user, order) -> None:  # noqa: ANN001
    engineer = make_user(roles.SYSTEM_ENGINEER)
    mine = api_as(owner).post(url(order, "comments/"), {"body": "Any news?", "is_internal": True}, format="json")
    assert mine.status_code == 201
    assert mine.json()["internal"] is False
    theirs = api_as(engineer).post(url(order, "comments/"), {"body": "Vendor ticket 42", "is_internal": True},
                                   format="json")
    assert theirs.status_code == 201 and theirs.json()["internal"] is True
    assert Comment.objects.count() == 2

    def bodies(user) -> list[str]:  # noqa: ANN001
        return [e["detail"]["body"] for e in api_as(user).get(url(order, "timeline/")).json() if e["kind"] == "comment"]

    assert bodies(owner) == ["Any news?"]
    assert bodies(engineer) == ["Any news?", "Vendor ticket 42"]


def test_blank_comment_is_400(api_as, owner, order) -> None:  # noqa: ANN001
    assert_error(api_as(owner).post(url(order, "comments/"), {"body": "  "}, format="json"), 400, "invalid")
    assert not Comment.objects.exists()


def upload(client: APIClient, order: WorkOrder, name: str, content: bytes):  # noqa: ANN201
    return client.post(url(order, "attachments/"),
                       {"file": SimpleUploadedFile(name, content, content_type="text/plain")}, format="multipart")


def test_attachment_upload_list_and_download(api_as, owner, order) -> None:  # noqa: ANN001
    client = api_as(owner)
    created = upload(client, order, "printer.txt", b"paper jam at tray 2")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "printer.txt" and created.json()["size"] == 19
    listing = client.get(url(order, "attachments/"))
    assert [(a["name"], a["size"]) for a in listing.json()] == [("printer.txt", 19)]

    download = client.get(url(order, f"attachments/{created.json()['id']}/download/"))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert 'filename="printer.txt"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == b"paper jam at tray 2"


def test_attachment_of_a_refused_type_is_400(api_as, owner, order) -> None:  # noqa: ANN001
    body = assert_error(upload(api_as(owner), order, "setup.exe", b"MZ\x90\x00"), 400, "invalid")
    assert "exe" in body["detail"]["file"][0]
    assert not Attachment.objects.exists()


@override_settings(ATTACHMENT_MAX_BYTES=10)
def test_oversized_attachment_is_400(api_as, owner, order) -> None:  # noqa: ANN001
    client = api_as(owner)
    assert_error(upload(client, order, "big.txt", b"x" * 11), 400, "invalid")
    assert not Attachment.objects.exists()
    assert upload(client, order, "small.txt", b"x" * 10).status_code == 201


@override_settings(ATTACHMENT_MAX_BYTES=512 * 1024)
def test_oversized_attachment_message_states_a_nonzero_limit(api_as, owner, order) -> None:  # noqa: ANN001
    body = assert_error(upload(api_as(owner), order, "big.txt", b"x" * (512 * 1024 + 1)), 400, "invalid")
    assert " 0 MB" not in body["detail"]["file"][0]


def test_attachment_hidden_from_another_department(api_as, owner, make_user, order) -> None:  # noqa: ANN001
    attachment_id = upload(api_as(owner), order, "payroll.txt", b"confidential").json()["id"]
    stranger = make_user(roles.DEPARTMENT_USER, department=DepartmentFactory(code="hr"))
    assert_error(api_as(stranger).get(url(order, f"attachments/{attachment_id}/download/")), 404, "not_found")
    assert_error(api_as(stranger).get(url(order, "attachments/")), 404, "not_found")

    page = Client()
    page.force_login(stranger)
    assert page.get(f"/attachments/{attachment_id}/").status_code == 404
    page.force_login(owner)
    response = page.get(f"/attachments/{attachment_id}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"confidential"


def test_attachment_of_another_ticket_is_404_through_this_ticket(api_as, owner, order) -> None:  # noqa: ANN001
    other = WorkOrder.objects.create(title="Other", created_by=owner)
    attachment_id = upload(api_as(owner), other, "a.txt", b"abc").json()["id"]
    assert_error(api_as(owner).get(url(order, f"attachments/{attachment_id}/download/")), 404, "not_found")


# --- Query counts -----------------------------------------------------------------------------------------


def count_queries(client: APIClient, path: str) -> tuple[int, int]:
    """(queries, rows) of one successful GET of a list endpoint."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


def assert_list_queries_do_not_grow(  # noqa: ANN001
    client: APIClient, path: str, add_rows: Callable[[int], None], *, expected: int, django_assert_num_queries
) -> None:
    """The list costs `expected` queries with 3 rows and still `expected` with 30."""
    add_rows(3)
    few, rows = count_queries(client, path)
    assert rows == 3
    add_rows(27)
    many, rows = count_queries(client, path)
    assert rows == 30
    assert few == many, f"{path}: {few} queries for 3 rows but {many} for 30"
    with django_assert_num_queries(expected):
        client.get(path, {"page_size": 100})


def add_services(n: int) -> None:
    department, team = DepartmentFactory(code="finance"), TeamFactory(code="system")
    for _ in range(n):
        ServiceFactory(owner_department=department, support_team=team)


def add_configuration_items(n: int) -> None:
    team = TeamFactory(code="system")
    owner = UserFactory()
    services = [ServiceFactory(), ServiceFactory()]
    for _ in range(n):
        ci = ConfigurationItemFactory(owner_team=team, owner=owner)
        ci.services.set(services)


# token with its user, the user's permissions and their roles', the capped count, the rows (+ the CIs' services)
@pytest.mark.parametrize(("path", "add_rows", "expected"), [(SERVICES, add_services, 5),
                                                            (CIS, add_configuration_items, 6)])
def test_list_query_count_does_not_grow(api_as, supervisor, django_assert_num_queries, path, add_rows,  # noqa: ANN001
                                        expected) -> None:
    assert_list_queries_do_not_grow(api_as(supervisor), path, add_rows, expected=expected,
                                    django_assert_num_queries=django_assert_num_queries)


# --- Schema and docs --------------------------------------------------------------------------------------


def test_openapi_schema(api) -> None:  # noqa: ANN001
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "OpsCenter API"
    for path in ("/api/v1/services/", "/api/v1/configuration-items/", "/api/v1/notifications/",
                 "/api/v1/work-orders/{id}/transitions/{transition}/"):
        assert path in schema["paths"], path


def test_docs_are_served_without_a_cdn(api) -> None:  # noqa: ANN001
    response = api.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"
    assert not re.search(r"https?://", html)


# --- Inputs found by fuzzing the schema (schemathesis): 400/404 JSON, never a 500 -------------------------


@pytest.mark.parametrize("page", ["18446744073709551615", "227248368828119765166850048"])
def test_page_number_too_deep_for_the_database_is_404_json(api_as, supervisor, page: str) -> None:  # noqa: ANN001
    DepartmentFactory()
    assert_error(api_as(supervisor).get("/api/v1/departments/", {"page": page}), 404)


def test_service_id_too_large_for_a_primary_key_is_400_json(api_as, supervisor) -> None:  # noqa: ANN001
    erp = ServiceFactory()
    ConfigurationItemFactory().services.add(erp)
    client = api_as(supervisor)
    body = assert_error(client.get(CIS, {"services": ["248737594967235303351976460288", erp.pk]}), 400, "invalid")
    assert "services" in body["detail"]
    assert client.get(CIS, {"services": [erp.pk]}).json()["count"] == 1


@pytest.mark.parametrize("ids", [[-72289812537059131361032950251520], [2**63], [0]])
def test_marking_read_an_id_no_notification_can_have_is_400_json(api_as, make_user, ids: list[int]) -> None:  # noqa: ANN001
    body = assert_error(api_as(make_user(roles.SYSTEM_ENGINEER)).post(f"{NOTIFICATIONS}read/", {"ids": ids},
                                                                       format="json"), 400, "invalid")
    assert "ids" in body["detail"]


def test_blank_asset_tags_are_no_tag_and_never_collide(api_as, supervisor) -> None:  # noqa: ANN001
    first, second = ConfigurationItemFactory(asset_tag="A-1"), ConfigurationItemFactory(asset_tag="A-2")
    client = api_as(supervisor)
    for ci in (first, second):
        response = client.patch(f"{CIS}{ci.pk}/", {"asset_tag": ""}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["asset_tag"] is None
    created = client.post(CIS, {"name": "spare", "ci_type": CIType.SERVER, "asset_tag": " "}, format="json")
    assert created.status_code == 201, created.content
    assert ConfigurationItem.objects.filter(pk__in=[first.pk, second.pk, created.json()["id"]],
                                            asset_tag__isnull=True).count() == 3
    # A tag in use is still refused with a 400.
    ConfigurationItemFactory(asset_tag="A-3")
    assert_error(client.patch(f"{CIS}{first.pk}/", {"asset_tag": "A-3"}, format="json"), 400, "invalid")


def test_a_user_holds_their_own_and_their_roles_permissions(django_assert_num_queries) -> None:  # noqa: ANN001
    from django.contrib.auth.models import Group, Permission

    from opscenter.core.models import User
    from opscenter.core.roles import user_roles, user_team_ids

    user = User.objects.create_user("perm-reader", password="pw")
    group = Group.objects.create(name="perm-readers")
    group.permissions.add(Permission.objects.get(codename="view_service"))
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_team"))
    team = TeamFactory(kind="network")
    team.members.add(user)
    user = User.objects.get(pk=user.pk)
    assert user.has_perm("core.view_service") and user.has_perm("core.view_team")
    assert not user.has_perm("core.add_service")
    assert user.get_all_permissions() == {"core.view_service", "core.view_team"}
    assert user_roles(user) == {"perm-readers"} and user_team_ids(user) == {team.pk}
    with django_assert_num_queries(0):  # the request asks again: read once, kept on the user
        assert user.has_perm("core.view_service") and not user.has_perm("core.add_service")
        assert user_roles(user) == {"perm-readers"} and user_team_ids(user) == {team.pk}
    user.is_active = False
    assert not user.has_perm("core.view_service")
    boss = User.objects.create_superuser("perm-boss", password="pw")
    assert boss.has_perm("core.add_service")


def test_roles_and_teams_are_read_once_for_the_request(django_assert_num_queries) -> None:  # noqa: ANN001
    from django.contrib.auth.models import Group

    from opscenter.core.roles import user_roles, user_team_ids, user_team_kinds

    user = User.objects.create_user("member", password="pw")
    user.groups.add(Group.objects.get(name="system_engineer"), Group.objects.get_or_create(name="extra")[0])
    first, second = TeamFactory(kind="network"), TeamFactory(kind="security")
    first.members.add(user)
    second.members.add(user)
    TeamFactory(kind="desktop")  # not theirs
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(2):  # the roles, then the teams
        assert user_roles(user) == {"system_engineer", "extra"}
        assert user_team_ids(user) == {first.pk, second.pk}
        assert user_team_kinds(user) == {"network", "security"}
    with django_assert_num_queries(0):
        assert user_roles(user) == {"system_engineer", "extra"} and user_team_kinds(user) == {"network", "security"}
    loner = User.objects.create_user("loner", password="pw")
    assert user_roles(loner) == set() and user_team_ids(loner) == set()
