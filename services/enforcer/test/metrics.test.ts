// The enforcer's registry as Prometheus scrapes it before anything happened.
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/index.js';

describe('enforcer metrics', () => {
  it('health check results are exported from 0, so the first failure is an increase the alert sees', async () => {
    const text = await createMetrics().registry.metrics();
    for (const result of ['passed', 'failed', 'timeout']) expect(text).toMatch(new RegExp(`^natfleet_enforcer_health_checks_total\\{result="${result}"\\} 0$`, 'm'));
  });
});
