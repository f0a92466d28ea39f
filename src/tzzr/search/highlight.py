"""Snippets: the part of an entry's text where a query's words are densest, escaped as
HTML with each match in <mark>. Made here for the page's rows only (the databases' own
snippet functions re-run the whole query per row, and PostgreSQL's drops what looks like
an HTML tag), folding case and accents as the indexes do, so both backends give the same
snippet for the same text."""

import html
import re
import unicodedata
from functools import lru_cache

from tzzr.search.query import Query

WORD = re.compile(r"[^\W_]+")  # letters and digits: what both indexes call a word
WINDOW = 18  # words in a snippet
MAX_SCAN = 50_000  # characters of a document looked through for matches
START, STOP = "<mark>", "</mark>"


@lru_cache(maxsize=4096)
def fold(word: str) -> str:
    """A word as the indexes compare it: accents removed, case folded."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def highlight(text: str, query: Query, window: int = WINDOW) -> str:
    """HTML: at most `window` words of `text`, where the query matches most, with an
    ellipsis where text was cut."""
    text = text[:MAX_SCAN]
    spans = [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(text)]
    if not spans:
        return html.escape(text[:200], quote=False)
    words = [w for _, _, w in spans]
    hits = [False] * len(spans)
    prefixes = tuple(fold(p) for p in query.prefixes)
    phrases = [[fold(w) for w in phrase] for phrase in query.phrases]
    for i, word in enumerate(words):
        if prefixes and word.startswith(prefixes):
            hits[i] = True
        for phrase in phrases:
            if words[i : i + len(phrase)] == phrase:
                for k in range(i, i + len(phrase)):
                    hits[k] = True
    start = _densest(hits, window)
    end = min(len(spans), start + window)
    out = ["…"] if start > 0 else []
    cursor = spans[start][0] if start > 0 else 0
    for k in range(start, end):
        begin, finish, _ = spans[k]
        out.append(html.escape(text[cursor:begin], quote=False))
        word = html.escape(text[begin:finish], quote=False)
        out.append(f"{START}{word}{STOP}" if hits[k] else word)
        cursor = finish
    if end < len(spans):
        out.append("…")
    else:
        out.append(html.escape(text[cursor:], quote=False))
    return " ".join("".join(out).split())  # one line


def _densest(hits: list[bool], window: int) -> int:
    """Where a window of `window` words holds the most hits (the first such place; a
    little before the first hit, for context)."""
    if not any(hits):
        return 0
    best, best_start, count = -1, 0, 0
    for i, hit in enumerate(hits):
        count += hit
        if i >= window:
            count -= hits[i - window]
        if count > best:
            best, best_start = count, max(0, i - window + 1)
    first = best_start + hits[best_start:].index(True)
    return max(0, min(best_start, first - 3))
