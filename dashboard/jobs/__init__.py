"""Scheduled jobs: one module per job, each with ``register(scheduler, settings)``.

Discovered by :func:`dashboard.scheduler.build_scheduler`.
"""
