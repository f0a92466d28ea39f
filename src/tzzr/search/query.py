"""The query syntax, read once and written for each backend. A query is words, each
matched as the start of a word ("panad" finds "Panadería"); "quoted phrases", matched
word for word in order; and -excluded words or "phrases". Every part must match. Case
and accents never matter: the indexes fold both."""

import re
from dataclasses import dataclass, field

from tzzr.errors import InvalidInput

MAX_QUERY = 500  # characters
MAX_PARTS = 20
PART = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
WORD = re.compile(r"[^\W_]+")  # letters and digits: what both indexes call a word


@dataclass(frozen=True)
class Query:
    """Prefixes (bare words), phrases (each a list of words), and what must not match."""

    prefixes: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.prefixes or self.phrases or self.excluded)

    def fts5(self) -> str:
        """The query as SQLite FTS5 MATCH syntax: `"panad"*`, `"total a pagar"`,
        `NOT "iva"`; every word quoted, so nothing in it is FTS5's own syntax."""
        wanted = [f"{_quoted([word])}*" for word in self.prefixes]
        wanted += [_quoted(words) for words in self.phrases]
        text = " AND ".join(wanted)
        for words in self.excluded:
            text += f" NOT {_quoted(words)}"
        return text

    def tsquery(self) -> str:
        """The query as PostgreSQL `to_tsquery` syntax: `'panad':*AB`, `'total':AB <->
        'a':AB <-> 'pagar':AB`, `!'iva':AB`; every word a quoted lexeme, matched in the
        title (weight A) and the text (B) only."""
        parts = [f"{_lexeme(word)}:*AB" for word in self.prefixes]
        parts += [
            "(" + " <-> ".join(f"{_lexeme(w)}:AB" for w in words) + ")" for words in self.phrases
        ]
        parts += [
            "!(" + " <-> ".join(f"{_lexeme(w)}:AB" for w in words) + ")" for words in self.excluded
        ]
        return " & ".join(parts)


def _quoted(words: list[str]) -> str:
    return '"' + " ".join(words).replace('"', '""') + '"'


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def parse(text: str | None) -> Query:
    """A query from what a person typed; a 422 naming `q` for one that cannot be run."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"the query is longer than {MAX_QUERY} characters", field="q")
    query = Query()
    for match in PART.finditer(text):
        quoted_minus, phrase, minus, word = match.groups()
        words = WORD.findall(phrase if phrase is not None else word)
        if not words:
            continue  # punctuation alone, "€", "-": nothing a word index holds
        excluded = bool(quoted_minus if phrase is not None else minus)
        if excluded:
            query.excluded.append(words)
        elif phrase is not None or len(words) > 1:
            query.phrases.append(words)  # "8,70" is the phrase 8 70
        else:
            query.prefixes.append(words[0])
    if len(query.prefixes) + len(query.phrases) + len(query.excluded) > MAX_PARTS:
        raise InvalidInput(f"the query has more than {MAX_PARTS} words and phrases", field="q")
    if query.excluded and not (query.prefixes or query.phrases):
        raise InvalidInput(
            "a query of excluded words only finds everything else; say what to find too",
            field="q",
        )
    return query
