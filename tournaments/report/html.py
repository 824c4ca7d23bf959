"""Small HTML helpers: every string is escaped unless it is :class:`Markup`.

Agent names, labels, tournament names and error texts come from users; the only
way to put them in a page is through :func:`esc`, so none can inject markup, and
none can carry terminal escapes or invalid UTF-8 into the page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from arena.textsafe import TEXT_LIMIT, clean_text

CSS = """\
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;
color:#1b1b1b;background:#fff}
a{color:#0645ad}a:focus,a:hover{text-decoration:underline 2px}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #c8c8c8;padding:.25rem .5rem;text-align:left}
thead th{background:#eef1f5}
td.num{text-align:right}
img{max-width:100%;height:auto}
pre{background:#f6f6f6;padding:.5rem;display:inline-block;margin:.25rem 0;line-height:1.2}
nav.crumbs{margin-bottom:1rem}
section.ply{border-left:4px solid transparent;padding-left:.5rem}
section.ply:target{border-left-color:#0645ad;background:#f3f7ff}
ol.moves{columns:4 12rem}
.best{font-weight:700}
"""


class Markup(str):
    """A string that is already HTML."""


def esc(value: Any) -> str:
    """Escape ``value`` for HTML text or an attribute, unless it is Markup.

    The text is cleaned first (:func:`~arena.textsafe.clean_text`, not cut): no
    control characters or bidi overrides, and no lone surrogate to break the
    page's UTF-8, also in rows older versions stored.
    """
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    return html.escape(clean_text(text, limit=max(TEXT_LIMIT, len(text))), quote=True)


def link(href: str, text: Any) -> Markup:
    return Markup(f'<a href="{esc(href)}">{esc(text)}</a>')


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


class Num(str):
    """A cell to right-align."""


def table(
    caption: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    row_header: int | None = None,
    css_id: str | None = None,
) -> Markup:
    """A table with a caption, ``th scope=col`` headers and optional row headers.

    Cells are escaped (unless Markup); :class:`Num` cells are right-aligned.
    """
    ident = f' id="{esc(css_id)}"' if css_id else ""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == row_header:
                cells.append(f'<th scope="row">{esc(cell)}</th>')
            elif isinstance(cell, Num):
                cells.append(f'<td class="num">{esc(cell)}</td>')
            else:
                cells.append(f"<td>{esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Markup(
        f"<table{ident}><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def page(title: str, body: str, *, root: str = "") -> str:
    """A whole page; ``root`` is the relative path back to the report's top folder."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}style.css">\n</head>\n<body>\n'
        f'<nav class="crumbs" aria-label="site"><a href="{root}index.html">Arena report</a></nav>\n'
        f"<main>\n<h1>{esc(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
