"""The Déclics network: its identity, and the directory built from its follow graph.

Modules: `signals` (who is a member, from its documents alone), `politeness` (per-host
token buckets), `fetcher` (conditional GETs with a cache in the database), `frontier`
(crawl rounds and their queue of actors), `members` (the directory's rows: members,
vouches, staleness), `crawler` (one actor, one round), `worker` (the crawl loop) and
`directory` (what is served: entries, filters, the AS2 collection).
"""

from __future__ import annotations

NETWORK_NAME = "Déclics"
# The charter signed on 14/09/2023; its data file arrives with the charter module.
CHARTER_VERSION = "2023-09-14"
