"""The flows TZZR ships (the plan's `flujos_predefinidos`), installed on first start."""

from typing import Any

DEFAULT_FLOWS: list[dict[str, Any]] = [
    {
        "id": "receipt-ocr",
        "description": "A photo or scan of a receipt or document: OCR, then its fields "
        "(total, currency, date, merchant, tax id, lines); OK when a total was found, else "
        "an incident for a person to confirm or correct what was read (MASON).",
        "priority": 10,
        "trigger": {
            "on": "ingest",
            "match": {"mediaType": ["image/*", "application/pdf"]},
        },
        "steps": [
            {"id": "ocr", "cell": "ocr-core", "lang": "${entry.metadata.lang}"},
            {
                "id": "fields",
                "cell": "receipt-fields",
                "lang": "${entry.metadata.lang}",
                "params": {"text": "${ocr.text}", "words": "${ocr.words}"},
            },
        ],
        "decision": "fields.total != null",
    },
    {
        "id": "voice-note",
        "description": "An audio note: speech recognition, then OK when words were heard.",
        "priority": 10,
        "trigger": {"on": "ingest", "match": {"mediaType": ["audio/*"]}},
        "steps": [{"id": "asr", "cell": "asr-engine", "lang": "${entry.metadata.lang}"}],
        "decision": "len(asr.text) > 0",
    },
    {
        "id": "anything-else",
        "description": "Everything else is consolidated as it came.",
        "priority": -100,
        "trigger": {"on": "ingest", "fallback": True},
        "steps": [],
        "decision": "true",
    },
]
