"""Views of the provider serve one organisation: the one named in the URL."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views.mixins import OAuthLibMixin

from guichet.oidc.provider.validator import OrganisationValidator
from guichet.organisations.models import Organisation
from guichet.organisations.resolve import by_slug
from guichet.web import outcomes


class OrganisationServer(OAuthLibMixin):
    """django-oauth-toolkit caches one oauthlib server per view class; here each request gets its own,
    whose validator knows the organisation (and the member signed in to it)."""

    organisation: Organisation

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.organisation = by_slug(kwargs["slug"])

    def get_oauthlib_core(self) -> OAuthLibCore:
        request: HttpRequest = self.request
        member = outcomes.signed_in_account(request, self.organisation.slug)
        validator = OrganisationValidator(self.organisation, member,
                                          outcomes.session_sign_in(request, self.organisation.slug))
        server = self.get_server_class()(validator, **oauth2_settings.server_kwargs)
        return self.get_oauthlib_backend_class()(server)
