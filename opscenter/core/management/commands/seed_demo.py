"""Load the demo data of an IT management center; safe to run again."""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand

from opscenter.core.demo import seed_organisation


class Command(BaseCommand):
    help = "Load demo departments, teams, users (one per role), services, CIs and process records."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default="opscenter-demo", help="Password of new demo users.")
        parser.add_argument("--quiet-signins", action="store_true", help="Do not print the sign-ins.")

    def handle(self, *args, **options) -> None:
        signins = seed_organisation(options["password"])
        for app in settings.OPSCENTER_PROCESS_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            module.seed(stdout=self.stdout)
        if options["quiet_signins"]:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo sign-ins (password: {options['password']}):"))
        for username, role, display in signins:
            self.stdout.write(f"  {username:<12} {role} ({display})")
