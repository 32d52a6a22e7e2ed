"""The incident admin: transition buttons and forms go through the transition service, refusals are
messages, edits are logged, the priority matrix is the supervisor's, reviews go through their service."""

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from incidents.choices import State
from incidents.models import Incident, MajorIncidentReview, PriorityRule
from incidents.tests.scenarios import Cast, make_cast, make_incident
from opscenter.core.models import FieldChange, TransitionLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(make_user: Any, supervisor: Any) -> Cast:
    return make_cast(make_user, supervisor=supervisor)


@pytest.fixture
def admin_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.supervisor)
    return client


def change_url(incident: Incident) -> str:
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def form_data(client: Client, incident: Incident, **changes: Any) -> dict[str, Any]:
    """The change form's current values (the fields the state lets the admin edit), with changes."""
    form = client.get(change_url(incident)).context["adminform"].form
    data = {name: "" if form.initial.get(name) is None else form.initial[name] for name in form.fields}
    return {**data, **changes}


def press(client: Client, incident: Incident, transition: str, **changes: Any) -> Any:
    """Press a transition button on the change form, as the browser posts it."""
    return client.post(change_url(incident), {**form_data(client, incident, **changes),
                                              "_fsm_transition_to": transition}, follow=True)


def texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def logs(incident: Incident, transition: str) -> Any:
    return TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                        object_id=incident.pk, transition=transition)


def test_change_page_shows_the_buttons_the_supervisor_may_press(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.UNDER_REVIEW)
    response = admin_client.get(change_url(incident))
    assert response.status_code == 200
    buttons = {t.name for block in response.context["fsm_object_transitions"] for t in block.available_transitions}
    assert buttons == {"approve_report", "return_report", "reopen"}
    assert 'name="title"' not in response.content.decode()  # nothing to edit while the report is reviewed


def test_supervisor_approves_a_report_with_the_button_and_it_is_logged(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.UNDER_REVIEW)
    response = press(admin_client, incident, "approve_report")
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.state == State.CLOSED and incident.closed_at is not None
    [log] = logs(incident, "approve_report")
    assert (log.actor, log.source_state, log.target_state) == (cast.supervisor, State.UNDER_REVIEW, State.CLOSED)
    assert any("Closed" in text for text in texts(response))


def test_declare_major_with_an_edit_logs_both(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.HANDLING)
    press(admin_client, incident, "declare_major", title="ERP 全面停擺")
    incident.refresh_from_db()
    assert incident.is_major and incident.state == State.HANDLING and incident.title == "ERP 全面停擺"
    assert logs(incident, "declare_major").get().actor == cast.supervisor
    change = FieldChange.objects.get(object_id=incident.pk, field="title")
    assert (change.old_value, change.new_value, change.actor) == ("ERP 登入失敗", "ERP 全面停擺", cast.supervisor)


def test_a_policy_condition_refuses_with_its_rule_and_changes_nothing(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.UNDER_REVIEW, major=True)
    page = admin_client.get(change_url(incident))
    labels = {t.name: t.label for block in page.context["fsm_object_transitions"] for t in block.available_transitions}
    assert "blocked" in labels["approve_report"]
    response = press(admin_client, incident, "approve_report")
    assert response.status_code == 200
    assert any("review meeting record" in text for text in texts(response))
    incident.refresh_from_db()
    assert incident.state == State.UNDER_REVIEW and incident.closed_at is None
    assert not logs(incident, "approve_report").exists()


@pytest.mark.parametrize("transition", ["approve_report", "no_such_transition", "_do_not"])
def test_a_transition_from_the_wrong_state_or_unknown_is_a_message_not_an_error(
        admin_client: Client, cast: Cast, transition: str) -> None:
    incident = make_incident(cast, state=State.HANDLING)
    before = TransitionLog.objects.count()
    response = press(admin_client, incident, transition)
    assert response.status_code == 200
    [message] = texts(response)
    assert "not allowed while" in message or "not a transition" in message
    incident.refresh_from_db()
    assert incident.state == State.HANDLING and TransitionLog.objects.count() == before


def test_a_transition_that_needs_data_asks_for_it_in_its_form(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.UNDER_REVIEW)
    response = admin_client.post(change_url(incident), {"_fsm_transition_to": "return_report"})
    form_url = reverse("admin:incidents_incident_transition", args=[incident.pk, "return_report"])
    assert response.status_code == 302 and response.url == form_url
    assert admin_client.get(form_url).status_code == 200

    missing = admin_client.post(form_url, {"comment": ""})
    assert missing.status_code == 200 and missing.context["transition_form"].errors["comment"]
    incident.refresh_from_db()
    assert incident.state == State.UNDER_REVIEW

    done = admin_client.post(form_url, {"comment": "請補充根本原因"})
    assert done.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert logs(incident, "return_report").get().comment == "請補充根本原因"


def test_a_refusal_on_the_form_page_is_a_message(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.CLASSIFIED)
    other = make_incident(cast, state=State.CLASSIFIED, title="ERP 登入失敗（重複）")
    form_url = reverse("admin:incidents_incident_transition", args=[other.pk, "cancel"])
    response = admin_client.post(form_url, {"reason": "duplicate", "duplicate_of": other.number})
    assert response.status_code == 200
    assert any("cannot duplicate itself" in text for text in texts(response))
    done = admin_client.post(form_url, {"reason": "duplicate", "duplicate_of": incident.number}, follow=True)
    other.refresh_from_db()
    assert other.state == State.CANCELLED and other.duplicate_of == incident
    assert logs(other, "cancel").get().actor == done.wsgi_request.user


def test_edits_are_limited_to_the_state_and_logged(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.HANDLING)
    form = admin_client.get(change_url(incident)).context["adminform"].form
    assert set(form.fields) == {"title", "impact_scope", "service", "configuration_item", "caller_name",
                                "caller_contact"}
    admin_client.post(change_url(incident), form_data(admin_client, incident, caller_contact="分機 3102",
                                                      description="ignored: not editable now"))
    incident.refresh_from_db()
    assert incident.caller_contact == "分機 3102" and incident.description == "用戶反映 ERP 登入頁面逾時"
    assert FieldChange.objects.get(object_id=incident.pk, field="caller_contact").actor == cast.supervisor

    closed = make_incident(cast, state=State.CLOSED)
    page = admin_client.get(change_url(closed))
    assert not page.context["adminform"].form.fields and 'name="_save"' not in page.content.decode()
    admin_client.post(change_url(closed), {"title": "changed"})
    closed.refresh_from_db()
    assert closed.title == "ERP 登入失敗"


def test_incidents_are_neither_added_nor_deleted_in_the_admin(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast)
    assert admin_client.get(reverse("admin:incidents_incident_add")).status_code == 403
    assert admin_client.get(reverse("admin:incidents_incident_delete", args=[incident.pk])).status_code == 403


def test_the_list_renders_with_its_filters(admin_client: Client, cast: Cast) -> None:
    make_incident(cast, state=State.ASSIGNED)
    response = admin_client.get(reverse("admin:incidents_incident_changelist"), {"state": "assigned", "q": "ERP"})
    assert response.status_code == 200 and response.context["cl"].result_count == 1


def test_the_supervisor_edits_the_matrix_and_only_new_classifications_follow(admin_client: Client,
                                                                              cast: Cast) -> None:
    before = make_incident(cast, state=State.CLASSIFIED, impact=1, urgency=1)
    assert before.priority == "P1"

    rules = list(PriorityRule.objects.order_by("pk"))
    data = {"form-TOTAL_FORMS": len(rules), "form-INITIAL_FORMS": len(rules), "_save": "Save"}
    for i, rule in enumerate(rules):
        data[f"form-{i}-id"] = rule.pk
        data[f"form-{i}-priority"] = "P2" if (rule.impact, rule.urgency) == (1, 1) else rule.priority
    response = admin_client.post(reverse("admin:incidents_priorityrule_changelist"), data)
    assert response.status_code == 302
    assert PriorityRule.priority_for(1, 1) == "P2"

    after = make_incident(cast, state=State.CLASSIFIED, impact=1, urgency=1)
    before.refresh_from_db()
    assert (before.priority, after.priority) == ("P1", "P2")


def test_matrix_cells_are_not_added_or_deleted(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:incidents_priorityrule_add")).status_code == 403
    rule = PriorityRule.objects.first()
    assert admin_client.get(reverse("admin:incidents_priorityrule_delete", args=[rule.pk])).status_code == 403


def test_a_review_added_in_the_admin_is_recorded_by_its_service(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.UNDER_REVIEW, major=True)
    response = admin_client.post(reverse("admin:incidents_majorincidentreview_add"), {
        "incident": incident.pk, "held_on": "2026-01-05", "attendees": "陳主管、林系統", "causes": "控制器老化",
        "lessons": "備件不足", "preventive_measures": "增加備件", "owners": "林系統"})
    assert response.status_code == 302
    review = MajorIncidentReview.objects.get(incident=incident)
    assert review.recorded_by == cast.supervisor

    press(admin_client, incident, "approve_report")
    incident.refresh_from_db()
    assert incident.state == State.CLOSED


def test_a_review_is_only_for_an_open_major_incident(admin_client: Client, cast: Cast) -> None:
    ordinary = make_incident(cast, state=State.HANDLING)
    response = admin_client.post(reverse("admin:incidents_majorincidentreview_add"), {
        "incident": ordinary.pk, "held_on": "2026-01-05", "attendees": "a", "causes": "b", "lessons": "c",
        "preventive_measures": "d", "owners": "e"})
    assert response.status_code == 200 and "incident" in response.context["adminform"].form.errors
    assert not MajorIncidentReview.objects.exists()


def test_the_timeline_reads_transitions_and_states_by_their_labels(admin_client: Client, cast: Cast) -> None:
    incident = make_incident(cast, state=State.UNDER_REVIEW)
    page = admin_client.get(change_url(incident)).content.decode()
    timeline = page[page.index('id="incident-timeline"'):]
    timeline = timeline[:timeline.index("</table>")]
    assert "Resolved → Report under review" in timeline and "resolved → under_review" not in timeline


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_admin_list_reads_dates_as_the_pages_do_and_keeps_numbers_whole(admin_client: Client, cast: Cast,
                                                                         language: str) -> None:
    from django.utils import timezone

    from opscenter.core.formatting import local_datetime

    incident = make_incident(cast, state=State.ASSIGNED)
    admin_client.cookies["django_language"] = language
    text = admin_client.get(reverse("admin:incidents_incident_changelist")).content.decode()
    assert local_datetime(incident.created_at) in text  # 2026-12-06 16:30, not "Dec. 6, 2026" nor "2026年12月6日"
    assert timezone.localtime(incident.created_at).strftime("%Y年") not in text
    assert "css/admin-lists.css" in text  # the number and the state never break inside (a browser test measures)
