"""Portability: a member takes its identity, followers and commons to another host
(export, import, Move, key rotation). The archive format is in docs/portability.md."""
