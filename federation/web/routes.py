"""The complete URL map. Nothing else registers routes."""

from __future__ import annotations

from aiohttp import web

from federation.web import actors, commons, content, directory, inbox, ops, wellknown
from federation.web.admin import commitments as admin_commitments
from federation.web.admin import commons as admin_commons
from federation.web.admin import deliveries as admin_deliveries
from federation.web.admin import follows as admin_follows
from federation.web.admin import login as admin_login
from federation.web.admin import policy as admin_policy
from federation.web.admin import practices as admin_practices
from federation.web.admin import profile as admin_profile
from federation.web.admin import replies as admin_replies
from federation.web.templates import TEMPLATE_DIR


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
            web.get("/tools/{slug}", actors.local_object),
            web.get("/events/{slug}", actors.local_object),
            web.get("/needs/{slug}", actors.local_object),
            web.get("/offers/{slug}", actors.local_object),
            web.get("/declarations/{slug}", actors.local_object),
            web.get("/users/{username}/events.ics", commons.own_events),
            web.get("/users/{username}/network-events.ics", commons.network_events),
            web.static("/static", TEMPLATE_DIR.with_name("static")),
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
    add_admin_routes(app)


def add_admin_routes(app: web.Application) -> None:
    """The web admin (web/admin/): every path is under /admin, behind `guard`."""
    app.add_routes(
        [
            web.get("/admin", admin_login.home),
            web.get("/admin/login", admin_login.login_form),
            web.post("/admin/login", admin_login.login),
            web.post("/admin/logout", admin_login.logout),
            web.get("/admin/practices", admin_practices.listing),
            web.get("/admin/practices/new", admin_practices.new_form),
            web.post("/admin/practices/new", admin_practices.create),
            web.post("/admin/preview", admin_practices.preview),
            web.get("/admin/practices/{slug}", admin_practices.edit_form),
            web.post("/admin/practices/{slug}", admin_practices.update),
            web.get("/admin/practices/{slug}/delete", admin_practices.delete_form),
            web.post("/admin/practices/{slug}/delete", admin_practices.delete),
            web.get("/admin/commitments", admin_commitments.form),
            web.post("/admin/commitments", admin_commitments.save),
            web.get("/admin/profile", admin_profile.form),
            web.post("/admin/profile", admin_profile.save),
            web.get("/admin/policy", admin_policy.form),
            web.post("/admin/policy", admin_policy.save),
            web.get("/admin/follows", admin_follows.page),
            web.post("/admin/follows/follow", admin_follows.follow_handle),
            web.post("/admin/follows/answer", admin_follows.answer),
            web.post("/admin/follows/block", admin_follows.block),
            web.post("/admin/follows/unblock", admin_follows.unblock),
            web.get("/admin/replies", admin_replies.listing),
            web.post("/admin/replies/{id}/{action:hide|show}", admin_replies.toggle),
            web.get("/admin/deliveries", admin_deliveries.listing),
            web.get("/admin/deliveries/{id}", admin_deliveries.detail),
            web.post("/admin/deliveries/{id}/retry", admin_deliveries.retry),
            *admin_commons.routes(),
        ]
    )
