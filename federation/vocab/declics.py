"""The Déclics extension vocabulary: one namespace IRI and one JSON-LD context.

AS2 has no words for charters, commitments, progress, themes or licences; these
terms say them. Mastodon ignores what it does not know, so every object still
shows sensibly there (title, summary, link); Déclics peers read the extension.
"""

from __future__ import annotations

from typing import Any

from federation.vocab.constants import AS_CONTEXT

NAMESPACE = "https://declics.coop/ns#"
CONTEXT_URL = "https://declics.coop/ns"

# Term definitions; inlined in every document so no fetch of CONTEXT_URL is needed.
TERMS: dict[str, Any] = {
    "declics": NAMESPACE,
    "schema": "http://schema.org#",
    "charter": {"@id": "declics:charter", "@type": "@id"},
    "charterVersion": "declics:charterVersion",
    "charterHash": "declics:charterHash",
    "signedOn": {"@id": "declics:signedOn", "@type": "schema:Date"},
    "commitments": {"@id": "declics:commitments", "@container": "@list"},
    "commitmentStatements": {"@id": "declics:commitmentStatements", "@type": "@id"},
    "number": "declics:number",
    "statement": "declics:statement",
    "progress": "declics:progress",
    "actions": "declics:actions",
    "evidence": {"@id": "declics:evidence", "@type": "@id", "@container": "@set"},
    "themes": {"@id": "declics:themes", "@container": "@set"},
    "licence": "declics:licence",
    "spdx": "declics:spdx",
    "derivedFrom": {"@id": "declics:derivedFrom", "@type": "@id"},
    "directory": {"@id": "declics:directory", "@type": "@id"},
    "territory": "declics:territory",
    "practiceCount": "declics:practiceCount",
    "lastSeen": {"@id": "declics:lastSeen", "@type": "schema:Date"},
    "vouchedBy": {"@id": "declics:vouchedBy", "@type": "@id", "@container": "@set"},
    "stale": "declics:stale",
    "versions": {"@id": "declics:versions", "@type": "@id"},
    "points": {"@id": "declics:points", "@container": "@list"},
    "kind": "declics:kind",
    "blockRecommendations": {"@id": "declics:blockRecommendations", "@type": "@id"},
    "version": "declics:version",
    "upcoming": {"@id": "declics:upcoming", "@type": "@id"},
    "effectiveFrom": {"@id": "declics:effectiveFrom", "@type": "schema:Date"},
    "storageCountry": "declics:storageCountry",
    "host": "declics:host",
    "retention": "declics:retention",
    "termsOfUse": {"@id": "declics:termsOfUse", "@type": "@id"},
    "personalData": {"@id": "declics:personalData", "@container": "@set"},
    "externalUses": {"@id": "declics:externalUses", "@container": "@set"},
    "what": "declics:what",
    "why": "declics:why",
    "who": "declics:who",
    "consent": "declics:consent",
    "pointsMap": {"@id": "declics:points", "@container": "@language"},
    "relatedPractices": {"@id": "declics:relatedPractices", "@type": "@id", "@container": "@set"},
}

# Relations a member declares with a tool (`Relationship.relationship`).
USES = f"{NAMESPACE}uses"
CONTRIBUTES_TO = f"{NAMESPACE}contributesTo"

# DOAP (FEP-c893) for tools: prefixed keys, so they never clash with AS2 terms
# (`doap:location` beside `location`).
DOAP_TERMS: dict[str, Any] = {
    "doap": "http://usefulinc.com/ns/doap#",
    "doap:homepage": {"@id": "doap:homepage", "@type": "@id"},
    "doap:license": {"@id": "doap:license", "@type": "@id"},
    "doap:browse": {"@id": "doap:browse", "@type": "@id"},
    "doap:location": {"@id": "doap:location", "@type": "@id"},
}

# Mobilizon's and schema.org's event terms, as Mobilizon writes them.
EVENT_TERMS: dict[str, Any] = {
    "sc": "http://schema.org#",
    "mz": "https://joinmobilizon.org/ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "ical": "http://www.w3.org/2002/12/cal/ical#",
    "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
    "joinModeType": {"@id": "mz:joinModeType", "@type": "rdfs:Class"},
    "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
    "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
    "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
    "anonymousParticipationEnabled": {
        "@id": "mz:anonymousParticipationEnabled",
        "@type": "sc:Boolean",
    },
    "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
    "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
    "inLanguage": "sc:inLanguage",
    "uuid": "sc:identifier",
    "category": "sc:category",
    "PostalAddress": "sc:PostalAddress",
    "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
    "streetAddress": "sc:streetAddress",
    "postalCode": "sc:postalCode",
    "addressLocality": "sc:addressLocality",
    "addressRegion": "sc:addressRegion",
    "addressCountry": "sc:addressCountry",
}


def context(*extra: Any) -> list[Any]:
    """The @context of a document carrying extension terms."""
    return [AS_CONTEXT, *extra, TERMS]


def context_document() -> dict[str, Any]:
    """What CONTEXT_URL (and every server's /ns) serves."""
    return {"@context": TERMS}
