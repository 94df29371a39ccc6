import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { commaSeparated } from '@infra/config';
import { keepSpansIn, RecentSpans, TraceBufferSettings } from './recent-spans';
import { setTracingMode } from './tracing';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';

export interface TracingHandle {
  readonly exporting: string;
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK for this process, configured by the standard variables:
 * OTEL_SDK_DISABLED=true turns tracing off; OTEL_TRACES_EXPORTER is `otlp`, `console` or `none`
 * (unset: `otlp` when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
 * else `none`, so a laptop without a collector logs no export errors); OTEL_SERVICE_NAME
 * overrides the service name (`ficus-<target>`); OTEL_BSP_SCHEDULE_DELAY the export interval.
 * FICUS_TRACE_BUFFER (a number of spans) keeps the latest spans in memory too, for the console
 * (recent-spans.ts), with or without an exporter.
 * With `none` no span is made, since none would ever be seen, but trace context still travels:
 * each HTTP request, call from another process and delivered event gets ids of its own, which are
 * in every log line and in each order's timeline (tracing.ts, `propagate` mode).
 */
export function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  exporterOverride?: SpanExporter,
): TracingHandle | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const configured = commaSeparated(env.OTEL_TRACES_EXPORTER ?? '')[0];
  const exporting =
    exporterOverride !== undefined
      ? 'custom'
      : (configured ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none'));
  const processors: SpanProcessor[] = [];
  if (exporterOverride) processors.push(new SimpleSpanProcessor({ exporter: exporterOverride }));
  else if (exporting === 'otlp') {
    const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/$/, '');
    const exporter = new OTLPTraceExporter({
      url: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base}/v1/traces` : undefined),
    });
    processors.push(
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY) || undefined }),
    );
  } else if (exporting === 'console') processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  else if (exporting !== 'none')
    throw new Error(`OTEL_TRACES_EXPORTER=${configured}: ficus supports otlp, console and none`);

  const buffer = TraceBufferSettings.parse(env);
  // A bad value is reported with the rest of the configuration as the process starts; none kept meanwhile.
  const ring = 'value' in buffer && buffer.value.spans > 0 ? new RecentSpans(buffer.value.spans) : undefined;
  if (ring) processors.push(ring);

  // Nothing would ever see a span: make none, carry trace ids only (tracing.ts, `propagate`).
  if (processors.length === 0) {
    setTracingMode('propagate');
    return {
      exporting,
      shutdown: async () => {
        setTracingMode('off');
      },
    };
  }

  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setTracingMode('record');
  keepSpansIn(ring);
  return {
    exporting,
    shutdown: async () => {
      setTracingMode('off');
      keepSpansIn(undefined);
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
