"""Test fixtures for the web: a live server, a real Chromium through Playwright, axe-core."""
