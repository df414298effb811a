from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "guichet.oidc"
    label = "oidc"
    default_auto_field = "django.db.models.BigAutoField"
