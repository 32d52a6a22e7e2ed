"""Navigation entries of duty's calendar-feed and report pages: none in the bar, which keeps one line at 1366 px
with every role's entries; the pages are reached from the duty pages (the rosters' page links them)."""


def register() -> None:
    """Nothing to register in the bar."""
