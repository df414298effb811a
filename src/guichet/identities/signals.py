"""What identities tells the layers above it, which it may not import (the OIDC provider, for one)."""

from django.dispatch import Signal

# Every session of an account must end: a new password, an agent's "end all sessions", a closed account.
# Sent inside the change's transaction with `account`; the OIDC provider revokes the tokens its
# applications hold for that account, so an application does not outlive the member's sessions.
sessions_ended = Signal()
