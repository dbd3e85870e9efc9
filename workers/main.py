"""For arq's own CLI, which imports a settings object by name:

    REDIS_URL=redis://127.0.0.1:6379 arq workers.main.WorkerSettings
    REDIS_URL=redis://127.0.0.1:6379 arq --check workers.main.WorkerSettings

It reads the environment when imported; an embedded Redis belongs to ``accord dev``, so
``REDIS_URL`` is required here.
"""

from __future__ import annotations

from accord.settings import get_settings
from workers.settings import worker_settings

_settings = get_settings()
if not _settings.redis_url:
    raise SystemExit("invalid setting ACCORD_REDIS_URL / REDIS_URL: required for arq's CLI")

WorkerSettings = worker_settings(_settings, _settings.redis_url)
