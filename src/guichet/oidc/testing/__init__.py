"""Test helpers of the OpenID Connect provider and federation: a small HTTP browser, and a real
upstream provider (the npm package oidc-provider) run by provider.mjs."""
