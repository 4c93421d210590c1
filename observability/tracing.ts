import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor, Span as SdkSpan } from '@opentelemetry/sdk-trace-base';

/** Spans of our own code (Graph requests and batches, storage writes, API requests). */
export const tracer = trace.getTracer('entra-backup');

/**
 * Runs `fn` in a child span of the current one; records a thrown error on the span. Without a registered tracer
 * provider (tracing off, the default) the span is a no-op and costs next to nothing.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Hands workflow spans (which the Temporal interceptors export from the sandbox through a sink) to whatever span
 * processor the process's tracer provider has: the NodeSDK's exporters in production, an in-memory one in tests,
 * nothing when tracing is off.
 */
export class GlobalSpanProcessor implements SpanProcessor {
  private delegate(): SpanProcessor | undefined {
    let provider: unknown = trace.getTracerProvider();
    const proxy = provider as { getDelegate?: () => unknown };
    if (typeof proxy.getDelegate === 'function') provider = proxy.getDelegate();
    const sdk = provider as { getActiveSpanProcessor?: () => SpanProcessor };
    return typeof sdk.getActiveSpanProcessor === 'function' ? sdk.getActiveSpanProcessor() : undefined;
  }

  onStart(span: SdkSpan, parentContext: Context): void {
    this.delegate()?.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    this.delegate()?.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await this.delegate()?.forceFlush();
  }

  async shutdown(): Promise<void> {
    // The provider shuts its processors down itself.
  }
}
