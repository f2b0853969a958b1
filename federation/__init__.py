"""Déclics: the federated actor server of a member platform of the Déclics network."""

__version__ = "0.1.0"
SOFTWARE_NAME = "declics"
