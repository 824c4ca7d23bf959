"""Make any text an agent produced safe to store, print and show in a page.

Agents control their error messages, tracebacks, type names and what they
print. Before any of it reaches the database, a terminal or a report it passes
through :func:`clean_text`:

- it becomes valid UTF-8: undecodable bytes and lone surrogates
  (``"\\ud800"``, which SQLite and UTF-8 encoders refuse) become U+FFFD;
- control characters are dropped, so an escape sequence cannot move the
  cursor, retitle the window or hide text in a terminal; newline and tab stay;
  so are the bidirectional overrides that reorder what a reader sees;
- it is capped at ``limit`` characters (64 KiB by default), with a marker.
"""

from __future__ import annotations

import re

TEXT_LIMIT = 64 * 1024  # characters kept of any one text from an agent

# C0 controls but \t and \n, DEL, C1 controls, and the bidi embedding/override/isolate marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CUT = "\n[... cut: over {limit} characters]"


def clean_text(text: str | bytes | None, *, limit: int = TEXT_LIMIT) -> str:
    """``text`` as valid, printable UTF-8 of at most ``limit`` characters (plus a marker).

    ``\\r\\n`` and lone ``\\r`` become ``\\n``.
    """
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    # Lone surrogates cannot be encoded: round-trip through UTF-8 with replacement.
    text = text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNSAFE.sub("", text)
    if len(text) > limit:
        text = text[:limit] + _CUT.format(limit=limit)
    return text
