"""Test plugins: real SMTP and SMS sinks, a live server and a real browser."""

pytest_plugins = ["guichet.channels.testing", "guichet.web.testing"]
