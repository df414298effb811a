from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "guichet.project"
    label = "project"

    def ready(self) -> None:
        from guichet.project import checks  # noqa: F401 - registers Guichet's deployment checks
