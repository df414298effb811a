from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "guichet.oidc"
    label = "oidc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from guichet.identities.signals import sessions_ended
        from guichet.oidc.provider.logout import revoke_every_token

        sessions_ended.connect(revoke_every_token, dispatch_uid="guichet.oidc.revoke_every_token")
