"""The kernel every process app shares: organisation, services and CIs, the workflow, the outbox."""
