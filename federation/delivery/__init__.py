"""Durable delivery of activities: a table of (activity, inbox) rows and workers."""
