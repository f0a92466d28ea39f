"""Optional OpenTelemetry tracing (off by default; `TZZR_OTEL_EXPORTER=otlp|console`):
a span per HTTP request, the trace carried through the queue in the run's row, and
spans for the run and its cell in the worker. Off, every helper is a no-op."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from tzzr.config import Settings

_PROPAGATOR = TraceContextTextMapPropagator()
_enabled = False


def setup(settings: "Settings", service: str, exporter: "SpanExporter | None" = None) -> bool:
    """Install a tracer provider when tracing is configured (or an exporter is given:
    tests pass an in-memory one). Returns whether tracing is on."""
    global _enabled
    if exporter is None and not settings.otel_exporter:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.otel_exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otel_endpoint or None))
        )
    trace.set_tracer_provider(provider)
    _enabled = True
    return True


def enabled() -> bool:
    return _enabled


def tracer() -> trace.Tracer:
    return trace.get_tracer("tzzr")


def carrier() -> str | None:
    """The current trace as a W3C traceparent, to store beside queued work."""
    if not _enabled:
        return None
    found: dict[str, str] = {}
    _PROPAGATOR.inject(found)
    return found.get("traceparent")


@contextmanager
def span(name: str, parent: str | None = None, **attributes: Any) -> Iterator[None]:
    """A span, child of `parent` (a stored traceparent) when given."""
    if not _enabled:
        yield
        return
    token = None
    if parent:
        token = otel_context.attach(_PROPAGATOR.extract({"traceparent": parent}))
    try:
        with tracer().start_as_current_span(name, attributes=attributes):
            yield
    finally:
        if token is not None:
            otel_context.detach(token)
