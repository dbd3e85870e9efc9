"""Accord's wiring: settings, database and Redis set-up, logging, and the ``accord`` CLI."""
