"""Identity of the Déclics network itself."""

from __future__ import annotations

NETWORK_NAME = "Déclics"
# The charter signed on 14/09/2023; its data file arrives with the charter module.
CHARTER_VERSION = "2023-09-14"
