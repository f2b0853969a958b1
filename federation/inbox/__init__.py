"""Inbound activities: authenticate, persist, then process in a worker."""
