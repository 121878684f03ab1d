"""Scheduled jobs: each module here defines ``register(scheduler, settings)``."""
