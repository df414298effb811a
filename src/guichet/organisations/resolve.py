"""Finding the organisation a request is for: /o/<slug>/ in the path, or a host named in a policy."""

from __future__ import annotations

from django.http import Http404

from guichet.organisations.models import Organisation


def by_slug(slug: str) -> Organisation:
    try:
        # Without its document: the policy is parsed once per version and node (Organisation.policy).
        return Organisation.objects.defer("document").get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("unknown organisation") from None


def by_host(host: str) -> Organisation | None:
    host = host.split(":")[0].lower()
    for organisation in Organisation.objects.defer("document"):
        if host in organisation.policy.hosts:
            return organisation
    return None
