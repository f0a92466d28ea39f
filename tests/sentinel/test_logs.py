"""Structured logs: one JSON object per line."""

import json
import logging
import logging.config
import sys

from tzzr.sentinel.logs import JsonFormatter, log_config


def test_json_logs_are_one_object_per_line() -> None:
    record = logging.LogRecord(
        "tzzr.test", logging.WARNING, __file__, 1, "run %s lost", ("r1",), None
    )
    record.run_id = "r1"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["message"] == "run r1 lost"
    assert entry["logger"] == "tzzr.test" and entry["run_id"] == "r1" and entry["ts"].endswith("Z")


def test_exceptions_and_other_extras_are_written_as_text() -> None:
    try:
        raise ValueError("bad input")
    except ValueError:
        record = logging.LogRecord(
            "tzzr.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    record.attempts = [1, 2]
    record.done = False
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad input" in entry["exception"]
    assert entry["attempts"] == "[1, 2]" and entry["done"] is False
    assert "args" not in entry and "msg" not in entry  # the record's own fields stay out


def test_the_log_config_picks_the_formatter_and_routes_uvicorn() -> None:
    json_config = log_config("json")
    assert json_config["formatters"]["default"] == {"()": "tzzr.sentinel.logs.JsonFormatter"}
    assert "format" in log_config("text")["formatters"]["default"]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert json_config["loggers"][name]["propagate"] is False
    # the factory named in the config is this module's formatter (resolved, not installed:
    # installing it would take the log capture away from the tests that follow)
    factory = json_config["formatters"]["default"]["()"]
    assert logging.config.BaseConfigurator({}).resolve(factory) is JsonFormatter
