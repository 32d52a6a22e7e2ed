"""Failed sign-ins as the admin shows them: django-axes' records under the kernel's names and permissions."""

from axes.models import AccessAttempt, AccessFailureLog
from django.utils.translation import gettext_lazy as _


class SignInAttempt(AccessAttempt):
    """The failed sign-ins of a username from an address since its last success; at the failure limit it is locked
    out, and deleting the row (Unlock, in the admin) lets it sign in again."""

    class Meta:
        proxy = True
        ordering = ["-attempt_time"]
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")


class SignInFailure(AccessFailureLog):
    """One failed sign-in, kept after an unlock: who, from where, on which page, and whether it was locked out."""

    class Meta:
        proxy = True
        ordering = ["-attempt_time"]
        verbose_name = _("sign-in failure")
        verbose_name_plural = _("sign-in failures")
