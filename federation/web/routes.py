"""The complete URL map. Nothing else registers routes."""

from __future__ import annotations

from aiohttp import web

from federation.web import actors, content, directory, inbox, ops, pages, wellknown


def add_routes(app: web.Application) -> None:
    app.add_routes(
        [
            web.get("/.well-known/webfinger", wellknown.webfinger_handler),
            web.get("/.well-known/host-meta", wellknown.host_meta),
            web.get("/.well-known/nodeinfo", wellknown.nodeinfo_links),
            web.get("/nodeinfo/{version}", wellknown.nodeinfo),
            web.get("/", actors.home),
            web.get("/actor", actors.application_actor),
            web.get("/actor/outbox", actors.application_outbox),
            web.post("/actor/inbox", inbox.application_inbox),
            web.post("/inbox", inbox.shared),
            web.get("/@{username}", actors.profile_page),
            web.get("/users/{username}", actors.actor),
            web.get(
                "/users/{username}/{collection:outbox|followers|following}",
                actors.collection,
            ),
            web.post("/users/{username}/inbox", inbox.personal),
            web.get("/users/{username}/blocks", actors.block_recommendations),
            web.get("/users/{username}/practices.atom", content.practices_feed),
            web.get("/users/{username}/directory", directory.collection),
            web.get("/objects/{id}", actors.local_object),
            web.get("/practices/{slug}", actors.local_object),
            web.get("/commitments", actors.local_object),
            web.get("/commitments/versions", content.object_versions),
            web.get("/commitments/versions/{number:[0-9]+}", content.object_version),
            web.get("/data-policy", content.data_policy),
            web.get("/data-policy/versions", content.object_versions),
            web.get("/data-policy/versions/{number:[0-9]+}", content.object_version),
            web.get("/commitments/history", content.commitment_history),
            web.get("/tags/{tag}", content.theme),
            web.get("/library", content.library_page),
            web.get("/directory", directory.page),
            web.get("/charter", content.charter_current),
            web.get("/charter/{version}", content.charter_version),
            web.get("/ns", content.vocabulary),
            web.get("/activities/{id}", actors.local_activity),
            web.static("/static", pages.TEMPLATE_DIR.with_name("static")),
        ]
    )
    # Operations: liveness, readiness, Prometheus metrics.
    app.add_routes(
        [
            web.get("/healthz", ops.healthz),
            web.get("/readyz", ops.readyz),
            web.get("/metrics", ops.metrics_handler),
        ]
    )
