"""Print the demo sign-ins (one user per role)."""

from django.core.management.base import BaseCommand

from opscenter.core.demo import USERS
from opscenter.core.roles import ROLE_LABELS


class Command(BaseCommand):
    help = "Print the demo users, their roles and the demo password."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default="opscenter-demo")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Demo sign-ins (password: {options['password']}):")
        for username, display, roles, _team, _dept, _staff in USERS:
            self.stdout.write(f"  {username:<12} {ROLE_LABELS[roles[0]]} ({display})")
