"""Worker spans: each task's span is a child of the agent's span for it (``AssignTask.traceparent``).

Tracing is on when the standard OTEL_* variables ask for it (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set, or ``OTEL_TRACES_EXPORTER=otlp``) and the optional
``tracing`` extra is installed (``pip install 'chorus-hpc[tracing]'``); the service name comes from
``OTEL_SERVICE_NAME`` (default ``chorus-worker-python``). Off, it costs one attribute check per task.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping, Optional

log = logging.getLogger("chorus.worker")


def _configured(env: Mapping[str, str]) -> bool:
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip()
    if exporter:
        return exporter != "none"
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


class Tracing:
    """The worker's tracer, or nothing when tracing is off."""

    def __init__(self, env: Optional[Mapping[str, str]] = None):
        env = os.environ if env is None else env
        self.tracer: Any = None
        self.provider: Any = None
        if not _configured(env):
            return
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
        except ImportError:
            log.warning("the OTEL_* settings ask for tracing, but the opentelemetry packages are missing: "
                        "pip install 'chorus-hpc[tracing]'; tasks run without worker spans")
            return
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc"
        try:
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore
        except ImportError:
            log.warning("no OTLP exporter for protocol %r is installed; tasks run without worker spans", protocol)
            return
        resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "chorus-worker-python")})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer = self.provider.get_tracer("chorus.worker")
        self.propagator = TraceContextTextMapPropagator()

    def start(self, a: Any) -> Any:
        """Starts the span of an AssignTask (None when tracing is off)."""
        if self.tracer is None:
            return None
        parent = None
        if a.traceparent:
            parent = self.propagator.extract({"traceparent": a.traceparent, "tracestate": a.tracestate})
        return self.tracer.start_span(f"chorus worker {a.method}", context=parent, attributes={
            "chorus.task_id": a.task_id, "chorus.session_id": a.session_id, "chorus.attempt": a.attempt})

    def end(self, span: Any, failure: Optional[str]) -> None:
        """Ends a span, marking it failed with the task's error message."""
        if span is None:
            return
        if failure is not None:
            from opentelemetry.trace import Status, StatusCode
            span.set_status(Status(StatusCode.ERROR, failure))
        span.end()

    def shutdown(self) -> None:
        """Flushes the spans (the worker is about to exit)."""
        if self.provider is not None:
            self.provider.shutdown()
