"""Guichet: identity and access for the member spaces of pension funds, social-security bodies
and mutual insurers."""

__version__ = "0.1.0"
