"""Kernel signals: process apps react to transitions without the kernel knowing them."""

from django.dispatch import Signal

# Sent inside the transition's transaction, after the log row is written.
# kwargs: instance, transition, source, target, actor, log, data
transition_performed = Signal()

# Sent inside the creating transaction, after the ticket and its first log row are written.
# kwargs: instance, actor
ticket_created = Signal()

# Sent inside ticket_update's transaction when plain fields changed. kwargs: instance, fields (set), actor
ticket_updated = Signal()
