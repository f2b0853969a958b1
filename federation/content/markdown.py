"""Markdown to safe HTML, and Markdown files with a YAML front matter."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from federation.vocab.sanitize import sanitize_html

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# markdown-it and PyYAML are imported at their first use, not with this module: the
# web app and the workers import it, and most processes never render Markdown nor
# read a front matter (resident memory, bench/README.md round 3).


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Raw HTML in Markdown is escaped, then the result is sanitized anyway: a member's
    # text is served to others, and a mistake in one layer must not become a hole.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render(markdown: str) -> str:
    return sanitize_html(_markdown().render(markdown))


class FrontMatterError(ValueError):
    pass


@dataclass(frozen=True)
class MarkdownFile:
    meta: dict[str, Any]
    body: str


def split_front_matter(text: str) -> MarkdownFile:
    """`---\\nyaml\\n---\\nbody`; a file without front matter is refused."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("the file must start with a front matter block between '---' lines")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            header = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            break
    else:
        raise FrontMatterError("the front matter is not closed by a '---' line")
    import yaml

    try:
        meta = yaml.safe_load(header) if header.strip() else {}
    except yaml.YAMLError as err:
        # One line: PyYAML's message spans several, with a drawing of the position.
        where = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        raise FrontMatterError(f"the front matter is not valid YAML: {problem}{at}") from err
    if not isinstance(meta, dict):
        raise FrontMatterError("the front matter must be a mapping of keys to values")
    return MarkdownFile({str(k): v for k, v in meta.items()}, body)
