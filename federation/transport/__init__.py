"""Outbound HTTP: the one client every fetch and delivery goes through."""
