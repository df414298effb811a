from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "guichet.identities"
    label = "identities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # identities.actions.record_sign_in writes last_login with the audit event; Django's own
        # signal handler would write it a second time on every sign-in.
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
