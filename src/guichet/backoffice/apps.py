from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "guichet.backoffice"
    label = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"
