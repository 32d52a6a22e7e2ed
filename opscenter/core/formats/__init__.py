"""Date and time formats of the pages Django draws itself (the admin's lists and read-only fields): the one format
of OpsCenter's own pages (opscenter.core.formatting), in both languages; input formats stay Django's."""
