"""The columns of the incident queue (the list page), declared once: the queue's query reads what they read and
its table draws what they show (opscenter.core.columns)."""

from django.utils.translation import gettext_lazy as _

from opscenter.core.columns import Column

# What a cell may name besides its row and link: the badges (incidents.templatetags.incident_badges) and words.
CELL_WORDS = {"major": _("Major")}

QUEUE_COLUMNS = (
    Column("number", _("Number"), ("number",),
           '<a href="{{ link }}" class="incident-number">{{ row.number }}</a>', css="text-nowrap"),
    Column("priority", _("Priority"), ("priority",), "{{ priority_badge(row.priority) }}", sort="priority"),
    Column("title", _("Title"), ("title", "is_major", "category__code", "category__name", "category__name_zh_hant"),
           '<a href="{{ link }}" class="text-reset incident-title">{{ row.title }}</a>'
           '{% if row.is_major %} <span class="badge bg-red-lt ms-1">{{ major }}</span>{% endif %}'
           '{% if row.category %}<div class="text-secondary small">{{ row.category }}</div>{% endif %}',
           css="queue-title"),
    Column("service", _("Service"), ("service__code", "service__name"),
           '<div class="queue-service text-truncate" title="{{ row.service or \'\' }}">{{ row.service or "—" }}</div>',
           css="text-secondary"),
    Column("state", _("State"), ("state",), "{{ state_badge(row.state) }}", sort="state", css="text-nowrap"),
    Column("assignee", _("Assignee / team"),
           ("assignee__username", "assignee__display_name", "assignee__first_name", "assignee__last_name",
            "team__code", "team__name"),
           '{% if row.assignee %}<div class="text-nowrap">{{ row.assignee }}</div>{% endif %}'
           '{% if row.team %}<div class="text-secondary small text-nowrap">{{ row.team }}</div>{% endif %}'
           '{% if not row.assignee and not row.team %}<span class="text-secondary">—</span>{% endif %}'),
    # The next deadline (assign, respond or resolve by) and the time left before it, as the row keeps it
    # (incidents.selectors.next_deadline), drawn by incidents.templatetags.incident_badges.
    Column("due", _("Due / time left"), ("state", "assign_due_at", "next_due_at", "sla_due_kind"),
           "{{ due_cell(row) }}", sort="due"),
    Column("created", _("Reported"), ("created_at",),
           "{% set reported = row.created_at|local('%Y-%m-%d %H:%M:%S') %}"
           '<span title="{{ reported }}"><span class="text-nowrap">{{ reported[:10] }}</span> '
           '<span class="text-nowrap">{{ reported[11:16] }}</span></span>',
           sort="-created", css="text-secondary"),  # date over time when the row is tight
)
