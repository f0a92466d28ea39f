"""An entry as search sees it: one text of everything known about it (its metadata and
file names, what its cells read — OCR and speech text, receipt fields —, what a person
entered in MASON, its flow and decision) and the values search filters on (the total,
its currency, the flow, the decision)."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tzzr.types import is_hex_digest

MAX_BODY = 200_000  # characters of one entry's text that are indexed
MAX_LINE = 200
# Parts of cell results that repeat their text (words, segments, pages) or are not
# words (boxes, timings, addresses of blobs).
SKIPPED = frozenset(
    {
        "words",
        "segments",
        "pages",
        "artifacts",
        "preparation",
        "box",
        "quad",
        "lang",
        "language",
        "language_probability",
        "ms",
        "engine",
        "model",
        "confidence",
        "duration",
        "real_time_factor",
        "truncated",
        "sha256",
        "media_type",
    }
)
AMOUNT_KEYS = ("total", "amount")


@dataclass(frozen=True)
class Document:
    title: str
    line: str  # the first line of text the cells read
    body: str
    total: float | None
    currency: str | None
    flow: str | None
    decision: str | None
    media: tuple[str, ...] = ()  # its files' media types

    def terms(self, h_instancia: str) -> str:
        """The words an index keeps beside the text for the filters it can answer
        itself: the instance, each media type and its family, the flow, the decision."""
        found = [h_instancia]
        for media in self.media:
            found += [term("media", media), term("media", media.split("/")[0] + "/*")]
        if self.flow:
            found.append(term("flow", self.flow))
        if self.decision:
            found.append(term("decision", self.decision))
        return " ".join(dict.fromkeys(found))


def term(kind: str, value: str) -> str:
    """A filter's value as one word no text holds and every tokenizer keeps whole."""
    return kind[0] + hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()[:20]


def strings(value: Any, key: str | None = None) -> Iterator[str]:
    """The words in a JSON value: its strings (not hex digests), and the numbers of
    amounts, leaving out SKIPPED parts."""
    if key in SKIPPED:
        return
    if isinstance(value, str):
        if value and not is_hex_digest(value):
            yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        if key in ("value", *AMOUNT_KEYS):
            yield f"{value}"
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from strings(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, key)


def _amount(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _currency(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("value")
    return value.upper()[:8] if isinstance(value, str) and value.strip() else None


def build(
    contenedor: dict[str, Any],
    execution: Any | None = None,
    enrichment: dict[str, Any] | None = None,
) -> Document:
    """The document of an entry from its container, its latest execution (`flow_id`,
    `steps`, `outcome`; or None) and its latest enrichment's fields (or None)."""
    metadata = contenedor.get("metadata") or {}
    files = contenedor.get("files") or []
    parts: list[str] = list(strings(metadata))
    parts += [str(f.get("name", "")) for f in files if f.get("name")]
    found_text: list[str] = []
    total: float | None = None
    currency: str | None = None
    flow = decision = None
    if execution is not None:
        flow, decision = execution.flow_id, execution.outcome
        parts += [flow] + ([decision] if decision else [])
        for step in execution.steps or []:
            output = step.get("output")
            if not isinstance(output, dict):
                continue
            if isinstance(output.get("text"), str):
                found_text.append(output["text"])
            parts += strings(output)
            for key in AMOUNT_KEYS:
                if total is None and key in output:
                    total = _amount(output[key])
            if currency is None and "currency" in output:
                currency = _currency(output["currency"])
    if enrichment:
        parts += strings(enrichment)
        # what a person entered wins over what a cell read
        corrected = next((_amount(enrichment[k]) for k in AMOUNT_KEYS if k in enrichment), None)
        total = corrected if corrected is not None else total
        currency = _currency(enrichment.get("currency")) or currency
    body = "\n".join(p for p in parts if p)[:MAX_BODY]
    line = next((ln.strip() for text in found_text for ln in text.splitlines() if ln.strip()), "")
    title = next(
        (
            str(v).strip()
            for v in (
                (enrichment or {}).get("title"),
                (enrichment or {}).get("merchant"),
                metadata.get("title"),
                metadata.get("note"),
                line,
                *(f.get("name") for f in files),
            )
            if isinstance(v, str) and v.strip()
        ),
        "",
    )
    return Document(
        title=title[:MAX_LINE],
        line=line[:MAX_LINE],
        body=body,
        total=total,
        currency=currency,
        flow=flow,
        decision=decision,
        media=tuple(sorted({str(f["media_type"]).lower() for f in files if f.get("media_type")})),
    )
