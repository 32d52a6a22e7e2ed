"""Periodic tasks of problem management: thin wrappers of its services."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def propose_problem_candidates() -> int:
    """Every ten minutes: propose, once, the incidents that recur over the policy's threshold within its window."""
    from problems.recurrence import candidates_propose

    return len(candidates_propose())


@shared_task(acks_late=True, ignore_result=True)
def sweep_problem_recurrence() -> int:
    """Every minute: send back to solving, once, the verifying problems that saw a recurrence in their window."""
    from problems.recurrence import problems_reopen_on_recurrence

    return len(problems_reopen_on_recurrence())


@shared_task(acks_late=True, ignore_result=True)
def notify_overdue_problem_actions() -> int:
    """Every fifteen minutes: tell, once per due date, the owners of actions past their due date."""
    from problems.overdue import actions_notify_overdue

    return actions_notify_overdue()
