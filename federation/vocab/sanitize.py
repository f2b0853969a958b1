"""Sanitising remote HTML with nh3 (ammonia): only harmless tags and http(s) links."""

from __future__ import annotations

ALLOWED_TAGS = {
    "p",
    "br",
    "a",
    "span",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "del",
    "s",
    "pre",
    "code",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "ol": {"start"}}


def sanitize_html(html: str) -> str:
    # Imported at the first text sanitized: its native library is 1.4 MB resident, and
    # a server that only delivers never needs it (bench/README.md, round 3).
    import nh3

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
        strip_comments=True,
    )
