"""The ``accord`` command: the composition root.

It is the one place that imports api, workers and models together to wire them (settings
read, ORM started, database migrated and seeded, API and worker started), so it stands above
all of them; ``accord``'s other modules (settings, database, logs, embedded Redis, the SQLite
backend, the dev mailbox) are the ground floor and import none of them. ``main.py`` builds
the typer app; each command group has its own module. The layers are checked by
``lint-imports`` (``[tool.importlinter]`` in pyproject.toml).
"""
