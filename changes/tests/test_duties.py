"""Two people, not two hats: whoever requested, assessed or implements a change does not approve it, whatever
roles they hold — refused by the change service (the API, the page and the admin all go through it) and not
offered on the page or in the admin."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from changes.choices import RiskLevel, State
from changes.models import Change, ChangeVote
from changes.services import change_transition
from changes.tests.factories import ChangeCrew, change_in_state, make_crew
from conftest import assert_error
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput
from opscenter.core.models import User
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ASSESSOR_HATS = [(roles.SUPERVISOR, roles.CHANGE_APPROVER),
                 (roles.SUPERVISOR, roles.CHANGE_APPROVER, roles.CAB_MEMBER)]
REQUESTER_HATS = [(roles.SYSTEM_ENGINEER, roles.CHANGE_APPROVER), (roles.SUPERVISOR, roles.CHANGE_APPROVER)]
IMPLEMENTER_HATS = [(roles.NETWORK_ENGINEER, roles.CHANGE_APPROVER),
                    (roles.NETWORK_ENGINEER, roles.SUPERVISOR, roles.CHANGE_APPROVER)]


def staff(*role_names: str) -> User:
    return UserFactory(roles=list(role_names), is_staff=True)


def awaiting(crew: ChangeCrew, who: str, hat: User, **kwargs: Any) -> Change:
    """A change awaiting approval in which `hat` is the requester, the assessor or the implementer."""
    if who == "assessor":
        crew.supervisor = hat
    elif who == "requester":
        kwargs["requester"] = hat
    else:
        kwargs["implementer"] = hat
    change = change_in_state(State.AWAITING_APPROVAL, crew, **kwargs)
    assert getattr(change, {"assessor": "assessed_by", "requester": "created_by",
                            "implementer": "implementer"}[who]) == hat
    return change


CASES = ([("assessor", hat) for hat in ASSESSOR_HATS] + [("requester", hat) for hat in REQUESTER_HATS]
         + [("implementer", hat) for hat in IMPLEMENTER_HATS])


def unchanged(change: Change) -> bool:
    change.refresh_from_db()
    return change.state == State.AWAITING_APPROVAL and not ChangeVote.objects.filter(change=change).exists()


@pytest.mark.parametrize(("who", "hat"), CASES, ids=[f"{w}-{'+'.join(h)}" for w, h in CASES])
def test_the_api_refuses_their_approval_and_rejection_with_the_reason(api_as, who: str, hat: tuple) -> None:  # noqa: ANN001
    crew = make_crew()
    person = staff(*hat)
    change = awaiting(crew, who, person)
    client = api_as(person)
    names = [t["name"] for t in client.get(f"/api/v1/changes/{change.pk}/available-transitions/").json()]
    assert "approve" not in names and "reject" not in names
    for name, body in (("approve", {"comment": "Fine by me."}), ("reject", {"comment": "No."})):
        refused = assert_error(client.post(f"/api/v1/changes/{change.pk}/transitions/{name}/", body, format="json"),
                               403, "segregation_of_duties")
        assert "segregation of duties" in refused["detail"]
    assert unchanged(change)
    done = api_as(crew.approver).post(f"/api/v1/changes/{change.pk}/transitions/approve/", {}, format="json")
    assert done.status_code == 200 and done.json()["state"] == State.APPROVED


def test_the_assessor_is_told_why_in_words() -> None:
    crew = make_crew()
    hat = staff(roles.SUPERVISOR, roles.CHANGE_APPROVER)
    change = awaiting(crew, "assessor", hat)
    with pytest.raises(Exception) as refused:
        change_transition(change, "approve", user=hat)
    assert refused.value.code == "segregation_of_duties"
    assert str(refused.value.detail) == ("Whoever assessed a change cannot approve or reject it "
                                         "(segregation of duties).")


def test_a_supervisor_who_only_assessed_may_still_reject_at_assessment_and_another_approver_decides() -> None:
    """The rule is about the decision after assessment: rejecting a request while assessing it stays the
    supervisor's, and a second supervisor who holds the approver role approves what the first assessed."""
    crew = make_crew()
    hat = staff(roles.SUPERVISOR, roles.CHANGE_APPROVER)
    crew.supervisor = hat
    assessing = change_in_state(State.ASSESSING, crew)
    assert change_transition(assessing, "reject", user=hat, comment="Not now.").state == State.REJECTED
    change = awaiting(make_crew(), "assessor", staff(roles.SUPERVISOR, roles.CHANGE_APPROVER))
    other = staff(roles.SUPERVISOR, roles.CHANGE_APPROVER)
    assert change_transition(change, "approve", user=other).state == State.APPROVED


def test_the_assessor_does_not_sit_on_the_joint_review_they_name() -> None:
    crew = make_crew()
    hat = staff(roles.SUPERVISOR, roles.CAB_MEMBER)
    crew.supervisor = hat
    change = change_in_state(State.ASSESSING, crew, risk=RiskLevel.MAJOR)
    data = {"necessity": "n", "feasibility": "f", "assessment": "a", "cab_members": [hat, *crew.cab[:2]]}
    with pytest.raises(InvalidInput) as refused:
        change_transition(change, "assess", user=hat, data=data)
    assert "cab_members" in refused.value.detail
    change.refresh_from_db()
    assert change.state == State.ASSESSING and not change.cab_members.exists()


def test_the_rules_default_members_leave_the_assessor_out() -> None:
    from changes.models import ApprovalRule

    crew = make_crew()
    hat = staff(roles.SUPERVISOR, roles.CAB_MEMBER)
    crew.supervisor = hat
    change = change_in_state(State.ASSESSING, crew, risk=RiskLevel.MAJOR)
    rule, _new = ApprovalRule.objects.get_or_create(risk_level=RiskLevel.MAJOR, defaults={"mode": "joint"})
    rule.default_cab_members.set([hat, *crew.cab])
    done = change_transition(change, "assess", user=hat, data={"necessity": "n", "feasibility": "f",
                                                                "assessment": "a"})
    assert done.state == State.AWAITING_APPROVAL and done.cab_member_ids() == {u.pk for u in crew.cab}


def test_what_awaits_an_assessor_approver_leaves_out_what_they_assessed() -> None:
    from changes.selectors import awaiting_my_decision

    hat = staff(roles.SUPERVISOR, roles.CHANGE_APPROVER)
    assessed = awaiting(make_crew(), "assessor", hat)
    someone_elses = change_in_state(State.AWAITING_APPROVAL, make_crew())
    mine = list(awaiting_my_decision(Change.objects.all(), hat))
    assert mine == [someone_elses] and assessed not in mine


# --- The page and the admin offer nothing, and refuse a forged post ---


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize(("who", "hat"), CASES, ids=[f"{w}-{'+'.join(h)}" for w, h in CASES])
def test_the_change_page_hides_approve_and_refuses_a_forged_post(who: str, hat: tuple) -> None:
    person = staff(*hat)
    change = awaiting(make_crew(), who, person)
    client = signed_in(person)
    body = client.get(f"/changes/{change.pk}/").content.decode()
    assert "transition-approve" not in body and "transition-reject" not in body
    response = client.post(f"/changes/{change.pk}/transitions/approve/", {"approve-comment": "mine"})
    assert response.status_code == 403
    assert any("segregation of duties" in str(m) for m in response.context["messages"])
    assert unchanged(change)


@pytest.mark.parametrize(("who", "hat"), CASES, ids=[f"{w}-{'+'.join(h)}" for w, h in CASES])
def test_the_admin_hides_approve_says_why_and_refuses_a_forged_post(who: str, hat: tuple) -> None:
    person = staff(*hat)
    change = awaiting(make_crew(), who, person)
    client = signed_in(person)
    page = client.get(reverse("admin:changes_change_change", args=[change.pk]))
    panel = page.context["decision_panel"]
    assert panel is not None and panel["decisions"] == []
    assert "segregation of duties" in panel["refusal"]
    buttons = {t.name for block in page.context["fsm_object_transitions"] for t in block.available_transitions}
    assert "approve" not in buttons and "reject" not in buttons
    html = page.content.decode()
    assert 'id="decision-approve"' not in html and 'id="decision-refusal"' in html
    forged = client.post(reverse("admin:changes_change_transition", args=[change.pk, "approve"]),
                         {"comment": "mine"}, follow=True)
    assert any("segregation of duties" in str(m) for m in forged.context["messages"])
    assert unchanged(change)
