"""The `guichet` command: Django's management commands under Guichet's name and settings.

    guichet demo                          the demo (development settings, SQLite, mailbox)
    guichet organisations check|apply     validate or apply policy files
    guichet members import                import a member registry CSV file
    guichet worker                        deliver the outbox (email, SMS, letters)
    guichet serve                         production web server (gunicorn)
    guichet migrate                       and every other Django command
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        os.environ.setdefault("GUICHET_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.project.settings")
    from guichet.project.environment import ConfigurationError, operator_language

    try:
        import django
        from django.core.management import execute_from_command_line
        from django.utils import translation

        django.setup()  # the settings first (they may refuse to start), and the apps, for the translations
        # The commands speak to the operator: in GUICHET_LANGUAGE, as the start-up errors do. LANGUAGE_CODE stays
        # the members' default; what a command sends to members chooses its own language (docs/decisions.md).
        translation.activate(operator_language())
        execute_from_command_line(["guichet", *args])
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
