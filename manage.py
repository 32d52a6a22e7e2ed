#!/usr/bin/env python
"""OpsCenter's command-line entry point."""

import sys


def main() -> None:
    from opscenter.environment import configure, exit_on_configuration_error

    configure()
    from django.core.management import execute_from_command_line

    with exit_on_configuration_error():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
