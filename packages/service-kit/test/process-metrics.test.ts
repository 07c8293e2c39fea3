import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectProcessMetrics } from '../src/index.js';

describe('process metrics', () => {
  it('standard process_* and nodejs_* names with a service label, registered once per registry', async () => {
    const registry = new Registry();
    expect(collectProcessMetrics(registry, 'compiler')).toBe(true);
    // A second call (another module wiring the same registry) registers nothing and does not throw.
    expect(collectProcessMetrics(registry, 'compiler')).toBe(false);
    const text = await registry.metrics();
    expect(text).toMatch(/^process_resident_memory_bytes\{service="compiler"\} \d+/m);
    expect(text).toMatch(/^process_cpu_seconds_total\{service="compiler"\} /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{service="compiler"\} \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{service="compiler"\} /m);
    // Every sample of every default metric carries the label, and no name is prefixed.
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(20);
    for (const s of samples) expect(s, s).toMatch(/^(process|nodejs)_[a-z0-9_]+\{([^}]*,)?service="compiler"/);
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });

  it('one registry per service: two daemons in one process keep their own label', async () => {
    const a = new Registry();
    const b = new Registry();
    collectProcessMetrics(a, 'api');
    collectProcessMetrics(b, 'enforcer');
    expect(await a.metrics()).toContain('process_start_time_seconds{service="api"}');
    expect(await b.metrics()).toContain('process_start_time_seconds{service="enforcer"}');
    expect(await b.metrics()).not.toContain('service="api"');
  });
});
