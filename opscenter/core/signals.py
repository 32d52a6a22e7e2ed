"""Kernel signals: process apps react to transitions without the kernel knowing them."""

from django.dispatch import Signal

# Sent inside the transition's transaction, after the log row is written.
# kwargs: instance, transition, source, target, actor, log, data
transition_performed = Signal()
