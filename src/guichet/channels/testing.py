"""Test fixtures for channels: a real SMTP server (aiosmtpd) and a real HTTP SMS endpoint."""
