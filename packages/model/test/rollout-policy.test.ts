// RolloutPolicy (natfleet.io/v1): defaults, every invalid field with its path, typo
// suggestions, selector errors with their position, durations and the key layout.
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_PREFIX, natfleetPrefixOverlapsCalico, parseDuration, rolloutPolicyKey, validateRolloutPolicy } from '../src/index.js';

function policy(spec: Record<string, unknown>, meta: Record<string, unknown> = { name: 'canary' }): Record<string, unknown> {
  return { apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: meta, spec };
}

/** [path, reason] of every issue, in order. */
function problems(raw: unknown): [string, string][] {
  const r = validateRolloutPolicy(raw);
  if (r.ok) return [];
  return r.issues.map((i) => [i.path, i.reason]);
}

describe('valid RolloutPolicy', () => {
  it('applies the defaults', () => {
    const r = validateRolloutPolicy(policy({ waves: [{ selector: "rack == 'r1'", bake: '5m' }, { percent: 50, bake: '30s' }, { percent: 100, bake: '0s' }] }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({
      apiVersion: 'natfleet.io/v1',
      kind: 'RolloutPolicy',
      metadata: { name: 'canary' },
      spec: {
        waves: [
          { name: 'wave-1', selector: "rack == 'r1'", bake: '5m' },
          { name: 'wave-2', percent: 50, bake: '30s' },
          { name: 'wave-3', percent: 100, bake: '0s' },
        ],
        gates: { ack: true, noNack: true },
        onFailure: 'rollback',
        progressDeadline: '10m',
      },
    });
  });

  it('keeps every field it defines', () => {
    const gates = {
      ack: true,
      noNack: true,
      healthChecks: { commands: [{ name: 'dns', command: ['/usr/bin/dig', '+short', 'example.org'], timeout: '5s' }], conntrack: { insertFailedDelta: 0, dropDelta: 10 } },
      webhook: { url: 'https://ci.example.org/gate', timeout: '10s', headers: { Authorization: 'Bearer x' } },
    };
    const r = validateRolloutPolicy(policy({ waves: [{ name: 'canary', selector: 'all()', percent: 5, bake: '1h', gates: { webhook: { url: 'http://10.0.0.1:8080/', timeout: '1s' } } }], gates, onFailure: 'halt', progressDeadline: '2h' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.gates).toEqual(gates);
    expect(r.value.spec.waves[0]).toEqual({ name: 'canary', selector: 'all()', percent: 5, bake: '1h', gates: { ack: true, noNack: true, webhook: { url: 'http://10.0.0.1:8080/', timeout: '1s' } } });
    expect(r.value.spec.onFailure).toBe('halt');
    expect(r.value.spec.progressDeadline).toBe('2h');
  });
});

describe('invalid fields, each with its path', () => {
  it('envelope', () => {
    expect(problems({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'Bad_Name' }, spec: { waves: [{ percent: 10, bake: '1m' }] } })).toEqual([
      ['apiVersion', `must be natfleet.io/v1 (got "projectcalico.org/v3") (RolloutPolicy is natfleet's own kind, not a Calico one)`],
      ['kind', 'must be RolloutPolicy (got "IPPool")'],
      ['metadata.name', expect.stringContaining('DNS-1123') as unknown as string],
    ]);
    expect(problems({ kind: 'RolloutPolicy', metadata: {} })).toEqual([
      ['apiVersion', 'required; must be natfleet.io/v1'],
      ['metadata.name', 'required'],
      ['spec', 'required: at least spec.waves'],
    ]);
    expect(problems('x')).toEqual([['', 'resource must be an object (got a string)']]);
  });

  it('waves: empty, wrong type, missing selector and percent', () => {
    expect(problems(policy({ waves: [] }))).toEqual([['spec.waves', 'required: at least one wave']]);
    expect(problems(policy({}))).toEqual([['spec.waves', 'required: at least one wave']]);
    expect(problems(policy({ waves: {} }))).toEqual([['spec.waves', 'must be an array (got an object)']]);
    expect(problems(policy({ waves: ['x', { bake: '1m' }] }))).toEqual([
      ['spec.waves[0]', 'must be an object (got a string)'],
      ['spec.waves[1]', 'needs a selector, a percent, or both'],
    ]);
  });

  it('every wave field at once', () => {
    expect(problems(policy({
      waves: [
        { name: 'A', percent: 0, bake: 'soon' },
        { name: 'b', percent: 101, bake: 5 },
        { name: 'b', percent: 1.5 },
        { percent: 10, bake: '20m' },
      ],
      onFailure: 'explode',
      progressDeadline: '15m',
    }))).toEqual([
      ['spec.onFailure', 'must be one of halt, rollback (got "explode")'],
      ['spec.waves[0].name', expect.stringContaining('DNS-1123') as unknown as string],
      ['spec.waves[0].percent', 'must be between 1 and 100 (got 0)'],
      ['spec.waves[0].bake', 'must be a duration such as 30s, 5m or 1h (got "soon")'],
      ['spec.waves[1].percent', 'must be between 1 and 100 (got 101)'],
      ['spec.waves[1].bake', 'must be a string (got a number)'],
      ['spec.waves[2].name', 'duplicate wave name "b" (also spec.waves[1])'],
      ['spec.waves[2].percent', 'must be an integer (got 1.5)'],
      ['spec.waves[2].bake', 'required: how long the wave must stay healthy, e.g. 5m'],
      ['spec.waves[3].bake', 'must be shorter than spec.progressDeadline (15m)'],
    ]);
  });

  it('progressDeadline must exceed every bake, the default 10m included', () => {
    expect(problems(policy({ waves: [{ percent: 10, bake: '10m' }] }))).toEqual([['spec.waves[0].bake', 'must be shorter than spec.progressDeadline (10m)']]);
    expect(problems(policy({ waves: [{ percent: 10, bake: '1m' }], progressDeadline: '0s' }))).toEqual([['spec.progressDeadline', 'must be longer than 0 (got "0s")']]);
    expect(problems(policy({ waves: [{ percent: 10, bake: '1m' }], progressDeadline: '10' }))).toEqual([['spec.progressDeadline', 'must be a duration such as 30s, 5m or 1h (got "10")']]);
  });

  it('gates', () => {
    expect(problems(policy({
      waves: [{ percent: 10, bake: '1m', gates: { noNack: false } }],
      gates: {
        ack: false,
        healthChecks: { commands: [{ name: 'a', command: [], timeout: '1s' }, { name: 'a', command: ['', 1], timeout: 'x' }, {}], conntrack: { insertFailedDelta: -1, dropDelta: 'many' } },
        webhook: { url: 'ftp://example.org/', headers: { 'bad header': 'v', ok: 3 } },
      },
    }))).toEqual([
      ['spec.gates.ack', 'is always on in this version: must be true or absent (got false)'],
      ['spec.gates.healthChecks.commands[0].command', 'must be a non-empty array of strings (got an array)'],
      ['spec.gates.healthChecks.commands[1].name', 'duplicate health check name "a"'],
      ['spec.gates.healthChecks.commands[1].command[0]', 'must be a non-empty string (the program)'],
      ['spec.gates.healthChecks.commands[1].command[1]', 'must be a string (got a number)'],
      ['spec.gates.healthChecks.commands[1].timeout', 'must be a duration such as 30s, 5m or 1h (got "x")'],
      ['spec.gates.healthChecks.commands[2].name', 'required'],
      ['spec.gates.healthChecks.commands[2].command', 'required: the argv to run, e.g. ["/usr/bin/check", "--quick"]'],
      ['spec.gates.healthChecks.commands[2].timeout', 'required: a duration such as 10s'],
      ['spec.gates.healthChecks.conntrack.insertFailedDelta', 'must be ≥ 0 (got -1)'],
      ['spec.gates.healthChecks.conntrack.dropDelta', 'must be an integer (got a string)'],
      ['spec.gates.webhook.url', 'must be an http or https URL (got "ftp://example.org/")'],
      ['spec.gates.webhook.timeout', 'required: a duration such as 10s'],
      ['spec.gates.webhook.headers["bad header"]', 'invalid HTTP header name'],
      ['spec.gates.webhook.headers["ok"]', 'must be a string (got a number)'],
      ['spec.waves[0].gates.noNack', 'is always on in this version: must be true or absent (got false)'],
    ]);
  });
});

describe('strict fields', () => {
  it('suggests the nearest known name, with the path', () => {
    expect(problems(policy({ waves: [{ selectr: 'all()', percent: 10, bake: '1m', gates: { webhok: {} } }], onFaliure: 'halt', progress_deadline: '1h' }))).toEqual([
      ['spec.waves[0].selectr', 'unknown field (did you mean selector?)'],
      ['spec.waves[0].gates.webhok', 'unknown field (did you mean webhook?)'],
      ['spec.onFaliure', 'unknown field (did you mean onFailure?)'],
      ['spec.progress_deadline', 'unknown field (did you mean progressDeadline?)'],
    ]);
  });

  it('says where a misplaced field belongs, and what a struct has', () => {
    expect(problems(policy({ waves: [{ percent: 10, bake: '1m' }], webhook: {} }))).toEqual([
      ['spec.webhook', 'unknown field here: webhook belongs at spec.waves[].gates.webhook or spec.gates.webhook'],
    ]);
    expect(problems(policy({ waves: [{ percent: 10, bake: '1m' }], gates: { healthChecks: { zzz: 1 } } }))).toEqual([
      ['spec.gates.healthChecks.zzz', 'unknown field; RolloutPolicy spec.gates.healthChecks has commands, conntrack'],
    ]);
  });

  it('warn policy keeps the resource and lists the field', () => {
    const r = validateRolloutPolicy(policy({ waves: [{ percent: 10, bake: '1m' }], extra: 1 }), { unknownFields: 'warn' });
    expect(r.ok).toBe(true);
    expect(r.warnings?.map((w) => w.path)).toEqual(['spec.extra']);
  });
});

describe('selectors', () => {
  it('reports a parse error with its position', () => {
    expect(problems(policy({ waves: [{ selector: "rack == 'r1' &&", bake: '1m' }] }))).toEqual([
      ['spec.waves[0].selector', expect.stringMatching(/^invalid selector: at position 15: /) as unknown as string],
    ]);
  });

  it('refuses global()', () => {
    expect(problems(policy({ waves: [{ selector: 'global()', bake: '1m' }] }))).toEqual([
      ['spec.waves[0].selector', 'global() is not allowed in a wave selector (it selects nodes by their labels)'],
    ]);
  });
});

describe('durations and keys', () => {
  it('parses Kubernetes-style durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0')).toBe(0);
    for (const bad of ['', '5', '-1s', '1d', 'm', '1h 30m', '1.5.2s']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('keys live under natfleet’s prefix, beside Calico’s', () => {
    expect(rolloutPolicyKey('canary')).toBe('/natfleet/v1/rolloutpolicies/canary');
    expect(rolloutPolicyKey('canary', '/x')).toBe('/x/rolloutpolicies/canary');
    expect(rolloutPolicyKey('canary').startsWith(`${DEFAULT_KEY_PREFIX}/`)).toBe(false);
    expect(natfleetPrefixOverlapsCalico('/natfleet/v1')).toBe(false);
    expect(natfleetPrefixOverlapsCalico(`${DEFAULT_KEY_PREFIX}/natfleet`)).toBe(true);
  });
});
