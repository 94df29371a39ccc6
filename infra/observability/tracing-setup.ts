import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { commaSeparated, ConfigurationError } from '@infra/config';
import { keepSpansIn, RecentSpans, TraceBufferSettings } from './recent-spans';
import { setTracingMode } from './tracing';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  SamplingDecision,
  type Sampler,
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
 * overrides the service name (`ficus-<target>`); OTEL_BSP_SCHEDULE_DELAY the export interval;
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG which traces are recorded (`samplerOf`).
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
  // Read as the specification reads its booleans: `true` in any case.
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const sampler = samplerOf(env); // a bad value stops the start before anything is made
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
  else if (exporting !== 'none') throw refused('OTEL_TRACES_EXPORTER', 'must be otlp, console or none');

  const buffer = TraceBufferSettings.parse(env);
  // A bad value is reported with the rest of the configuration as the process starts; none kept meanwhile.
  const ring = 'value' in buffer && buffer.value.spans > 0 ? new RecentSpans(buffer.value.spans) : undefined;
  if (ring) processors.push(ring);

  // Nothing would ever see a span: make none, carry trace ids only (tracing.ts, `propagate`).
  if (processors.length === 0) {
    // The sampler still decides the flag of the traces this process begins: processes that record
    // (split, with their own exporter) follow it.
    setTracingMode('propagate', (traceId) => sampledAtRoot(sampler, traceId));
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
    sampler,
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

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The sampler OTEL_TRACES_SAMPLER names, as the OpenTelemetry specification reads it (any case,
 * blanks trimmed; unset: `parentbased_always_on`, every trace), with OTEL_TRACES_SAMPLER_ARG the
 * ratio of `traceidratio` (0 to 1; unset: 1). The SDK ficus uses reads neither itself, so without
 * this a team asking for a tenth of its traces would record them all. A sampler of another kind
 * (`jaeger_remote`, `xray`) or a ratio that is none stops the start, as a bad exporter does.
 *
 * ficus hands every span its parent as a traceparent, so the parent-based samplers follow the
 * decision the trace's first process made (its flags), in one process and across processes alike,
 * and a trace is recorded whole or not at all. A trace not recorded still has its ids: in every log
 * line, every envelope and the order's timeline.
 */
export function samplerOf(env: Readonly<Record<string, string | undefined>>): Sampler {
  const named = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(named)) {
    throw refused('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}`);
  }
  const root = named.endsWith('always_on')
    ? new AlwaysOnSampler()
    : named.endsWith('always_off')
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(ratioOf(env.OTEL_TRACES_SAMPLER_ARG));
  return named.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

const DECIMAL = /^(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** OTEL_TRACES_SAMPLER_ARG as the share of traces recorded: a number from 0 to 1 (unset: 1). */
function ratioOf(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 1;
  const ratio = DECIMAL.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(ratio >= 0 && ratio <= 1)) {
    throw refused('OTEL_TRACES_SAMPLER_ARG', 'must be the share of traces recorded, a number from 0 to 1');
  }
  return ratio;
}

/** A tracing variable that cannot be read, reported as any other setting is when a process starts. */
function refused(variable: string, message: string): ConfigurationError {
  return new ConfigurationError([{ variable, message, group: 'process: tracing' }]);
}

/** The sampler's decision for a trace begun here, with no parent. */
function sampledAtRoot(sampler: Sampler, traceId: string): boolean {
  return (
    sampler.shouldSample(ROOT_CONTEXT, traceId, '', SpanKind.SERVER, {}, []).decision ===
    SamplingDecision.RECORD_AND_SAMPLED
  );
}
