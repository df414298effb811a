from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "guichet.project"
    label = "project"
