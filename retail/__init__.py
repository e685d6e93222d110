"""Rastro's bounded contexts. Each subpackage owns its tables and talks to the others
only through their ``public.py`` facade and through domain events (see docs/architecture.md)."""
