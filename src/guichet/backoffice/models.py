"""Agents: the organisation's staff who help members. They are not member accounts.

Agents sign in to the console with email, password and an authenticator app (always). They act on
members of their organisations only, supervisors too; a supervisor reaches every organisation only when
created so (`all_organisations`, `guichet agents create --role supervisor --all-organisations`). Every
action is audited with the agent as actor and the reason the agent gave.
"""

from __future__ import annotations

from django.db import models

from guichet.organisations.models import Organisation


class Agent(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "agent"
        SUPERVISOR = "supervisor", "supervisor"

    name = models.CharField(max_length=150)
    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-cased; the sign-in identifier")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="agents",
                                           help_text="Whose members the agent may help")
    all_organisations = models.BooleanField(
        default=False, help_text="Supervisors only: every organisation, present and future")
    password = models.CharField(max_length=256, blank=True, help_text="argon2id hash; empty until enrolment")
    totp_secret = models.CharField(max_length=200, blank=True, help_text="TOTP seed, encrypted with the secret key")
    totp_last_step = models.BigIntegerField(null=True, blank=True, help_text="Last TOTP time step used (no replay)")
    enrolment_hash = models.CharField(max_length=64, blank=True, help_text="HMAC of the one-time enrolment token")
    enrolment_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def actor(self) -> str:
        """How audit events name this agent."""
        return f"agent:{self.pk}"

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR

    @property
    def global_reach(self) -> bool:
        """Every organisation: a supervisor created with --all-organisations, never a plain agent."""
        return self.is_supervisor and self.all_organisations

    @property
    def enrolled(self) -> bool:
        return bool(self.password and self.totp_secret)


class AgentThrottle(models.Model):
    """Failed console sign-ins per identity (an agent, or an unknown email), and its locks.

    security.lockout's own table is per organisation, and an agent belongs to none in particular;
    the rules (escalation, durations) are security.lockout's, applied by backoffice.throttle.
    """

    key_hash = models.CharField(max_length=64, unique=True, help_text="HMAC of the identity key")
    agent = models.ForeignKey("Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              help_text="The agent whose browser this counter is (so that an unlock clears it)")
    failures = models.PositiveIntegerField(default=0)
    locks = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
