"""The kernel's generation-keyed cache: an answer is read once and kept until a row of a model it was read from is
saved or deleted (or a write that sends no signal renews it)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from opscenter.core.caching import cached_by, generation, renew, watch
from opscenter.core.models import Department, FeedToken, Team

pytestmark = pytest.mark.django_db

watch(Department)  # as an app's ready() watches the models its answers are read from


def department_names(reads: list[int]) -> list[str]:
    def read() -> list[str]:
        reads.append(1)
        return list(Department.objects.order_by("code").values_list("name", flat=True))

    return cached_by("test-department-names", (Department,), read)


def test_an_answer_is_read_once_then_kept() -> None:
    Department.objects.create(code="fin", name="Finance")
    reads: list[int] = []
    assert department_names(reads) == ["Finance"]
    assert department_names(reads) == ["Finance"]
    assert len(reads) == 1


def test_saving_deleting_or_renewing_a_watched_model_reads_again() -> None:
    finance = Department.objects.create(code="fin", name="Finance")
    reads: list[int] = []
    department_names(reads)
    finance.name = "Finance and Accounting"
    finance.save()
    assert department_names(reads) == ["Finance and Accounting"]
    Department.objects.create(code="hr", name="HR")
    assert department_names(reads) == ["Finance and Accounting", "HR"]
    Department.objects.filter(code="hr").delete()
    assert department_names(reads) == ["Finance and Accounting"]
    Department.objects.filter(code="fin").update(name="Accounting")  # sends no signal: the writer renews
    assert department_names(reads) == ["Finance and Accounting"]
    renew(Department)
    assert department_names(reads) == ["Accounting"]
    assert len(reads) == 5


def test_a_model_not_read_from_does_not_renew_the_answer() -> None:
    Department.objects.create(code="fin", name="Finance")
    reads: list[int] = []
    department_names(reads)
    Team.objects.create(code="net", name="Network")
    department_names(reads)
    assert len(reads) == 1


@pytest.mark.django_db(transaction=True)
def test_the_generation_is_renewed_again_when_the_transaction_commits() -> None:
    """A request that read between the save and the commit keeps what it read under the first new generation;
    the commit's renewal makes that entry unread too."""
    with transaction.atomic():
        Department.objects.create(code="fin", name="Finance")
        during = generation(Department)
    assert generation(Department) != during


def test_an_answer_read_from_a_model_no_app_watches_is_refused() -> None:
    """Another process would never renew it: a save there would leave this answer stale."""
    with pytest.raises(ImproperlyConfigured, match="core.FeedToken"):
        cached_by("test-tokens", (FeedToken,), list)
