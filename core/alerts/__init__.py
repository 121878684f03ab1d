"""Alerts: rules, evaluation, channels and the delivery log (issue 13)."""
