"""Settings for `amends serve` and manage.py: everything comes from the environment (see base)."""

from config.settings.base import *  # noqa: F403
