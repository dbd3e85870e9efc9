"""Tortoise models and the domain rules on them. Nothing here imports ``api`` or ``workers``."""
