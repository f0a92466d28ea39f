"""RECEIPT_FIELDS: a receipt's or an invoice's fields read from OCR text — the total,
its currency, the date, the merchant, the tax id, the line items, the subtotal and the
tax — each as `{"value", "confidence"}` (0..1), or null when it is not there.

It takes the text as a `text` payload (UTF-8), or, in a flow, no payload and the OCR
step's output as parameters (`params.text`, and `params.words` for each word's OCR
confidence). Reading it is an explicit list of steps (`extract`): lines are normalised
(accents and case for the patterns, O and I read for 0 and 1 inside numbers); amounts
that OCR tore from their labels are put back (receipt_lines.py); then each field is
found by its own rule (receipt_rules.py, with the words of receipt_words.py) and its
confidence is the rule's, weighed by the OCR confidence of the words it was read from."""

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tzzr.cells import receipt_lines
from tzzr.cells.base import CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell
from tzzr.validation import invalid_input

MAX_TEXT_CHARS = 200_000  # about 60 pages of dense text; a receipt is 1-3 thousand
MAX_WORDS = 50_000
VERSION = "1.0.0"


class Word(BaseModel):
    """A word as OCR_CORE gives it; only its text and confidence are read here."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(max_length=500)
    conf: float = Field(ge=-1, le=100)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    words: list[Word] | None = Field(default=None, max_length=MAX_WORDS)


def parse(params: dict[str, Any]) -> Params:
    try:
        return Params.model_validate(params)
    except ValidationError as exc:
        raise invalid_input(exc, under="params") from exc


def extract(
    text: str, words: list[tuple[str, float]] | None = None, lang: str | None = None
) -> dict[str, Any]:
    """The fields of the receipt in `text`; `words` ((text, conf 0..100) in reading
    order) weigh each field's confidence by how sure OCR was of what it was read from."""
    from tzzr.cells import receipt_rules as rules  # (and python-stdnum) load with a receipt

    lines = receipt_lines.read_lines(text)  # 1. normalised lines with their amounts
    rows = receipt_lines.attach_torn(lines)  # 2. amounts put back on the labels they were torn from
    sure = receipt_lines.OcrConfidence(lines, words)  # 3. each word's OCR confidence
    context = rules.context_of(lines, lang)  # 4. the currency and date order the text shows
    total = rules.total(lines, rows, context)  # 5. the fields, each by its rule
    tax_id = rules.tax_id(lines)
    found: dict[str, Any] = {
        "total": total,
        "subtotal": rules.subtotal(lines, rows),
        "tax": rules.tax(lines, rows),
        "currency": rules.currency(lines, total, context, tax_id),
        "date": rules.date(lines, context),
        "merchant": rules.merchant(lines),
        "taxId": tax_id,
        "lines": rules.items(lines, rows),
    }
    return sure.weigh(found)  # 6. confidences weighed by OCR's


class ReceiptFieldsCell:
    module = "RECEIPT_FIELDS"
    accepts = frozenset({"text", "none"})
    max_input_bytes = MAX_TEXT_CHARS * 4  # UTF-8: at most 4 bytes a character

    def __init__(self) -> None:
        self.meta = KnowledgeCell(
            id="receipt-fields",
            type="extraction",
            version=VERSION,
            description="A receipt's total, currency, date, merchant, tax id and lines "
            "from its OCR text (Spanish and English formats), each with a confidence.",
            api_endpoint="/api/cells/receipt-fields/run",
            microservice_url="",
            input_format={
                "payload": {"type": "text (UTF-8 OCR text) | none (then params.text)"},
                "params": {
                    "text": f"string, at most {MAX_TEXT_CHARS} characters",
                    "words": "[{text, conf}] (OCR_CORE's words, optional)",
                },
                "context": {"lang": "es | en (optional)"},
            },
            output_format={
                "total": "{value: number, confidence, text, checks} | null",
                "subtotal": "{value, confidence, text} | null",
                "tax": "{value, confidence, text} | null",
                "currency": "{value: ISO 4217, confidence} | null",
                "date": "{value: yyyy-mm-dd, confidence, text} | null",
                "merchant": "{value, confidence} | null",
                "taxId": "{value, confidence, kind: nif|nie|cif|vat, country, valid} | null",
                "lines": "[{description, amount, quantity?, confidence}]",
            },
            author="TZZR",
            test_cases=[
                {
                    "name": "receipt-es",
                    "input": {"type": "text", "sample": "receipt.txt"},
                    "expect": {"contains": ['"value": 8.7', "Panadería Muñoz", '"EUR"']},
                }
            ],
        )

    def check_params(self, params: dict[str, Any]) -> None:
        parse(params)

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        p = parse(dict(context.params))
        started = time.perf_counter()
        if payload.type == "text":
            if p.text is not None:
                raise CellFailed(
                    "send the text either as the input or as params.text, not both",
                    field="params.text",
                )
            try:
                text = payload.data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CellFailed(
                    f"the text is not UTF-8 ({exc.reason} at byte {exc.start})",
                    field="payload.content",
                ) from exc
            if len(text) > MAX_TEXT_CHARS:
                raise CellFailed(
                    f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
                    field="payload.content",
                )
        elif p.text is not None:
            text = p.text
        else:
            raise CellFailed(
                "send the OCR text as a text input or as params.text "
                '(in a flow: params: {text: "${ocr.text}"})',
                field="params.text",
            )
        words = [(w.text, w.conf) for w in p.words] if p.words else None
        result = extract(text, words, context.lang)
        result["ms"] = round((time.perf_counter() - started) * 1000, 2)
        return CellResult(result, engine="tzzr-receipt", model=VERSION)
