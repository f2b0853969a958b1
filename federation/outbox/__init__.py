"""Outbound activities: build, store with their exact bytes, plan their deliveries."""
