// The admission feed's first read gates the bundle feed (daemon.ts): a node holding no
// admission must not start following bundles after a FAILED read of the newest admission
// (the newest bundle may be a candidate it is not admitted for); one holding a restored
// admission may.
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { AdmissionFeed } from '../src/admission-feed.js';
import type { NatsLink } from '../src/nats-link.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: () => undefined } as never;

/** A connection whose subscription never delivers and whose stored-message gets fail `failures` times, then answer `data`. */
function fakeNats(failures: number, data: Uint8Array) {
  let gets = 0;
  const jsm = {
    streams: {
      getMessage: async () => {
        gets++;
        if (gets <= failures) throw new Error('TIMEOUT');
        return { seq: 7, data };
      },
    },
  };
  const nc = {
    subscribe: () => {
      let closed = false;
      let wake: () => void = () => undefined;
      return {
        unsubscribe: () => {
          closed = true;
          wake();
        },
        isClosed: () => closed,
        async *[Symbol.asyncIterator]() {
          if (!closed) await new Promise<void>((r) => (wake = r));
        },
      };
    },
    jetstreamManager: async () => jsm,
  } as unknown as NatsConnection;
  const link = { whenConnected: async () => nc, subscribe: () => () => undefined, isConnected: true } as unknown as NatsLink;
  return { link, gets: () => gets };
}

async function firstReadOf(held: boolean): Promise<{ offeredAtFirstRead: number; gets: number }> {
  const data = new Uint8Array([1, 2, 3]);
  const { link, gets } = fakeNats(2, data);
  const offered: Uint8Array[] = [];
  const feed = new AdmissionFeed({ link, cluster: 'test', offer: (d) => offered.push(d), isGenuine: () => true, held: () => held, pollMs: 60_000, retryMs: 5, logger: silent });
  feed.start();
  await feed.firstRead();
  const r = { offeredAtFirstRead: offered.length, gets: gets() };
  await feed.close();
  return r;
}

describe('admission feed first read', () => {
  it('holding no admission: bundles wait until the newest admission was actually read (failed reads retried)', async () => {
    const r = await firstReadOf(false);
    expect(r.gets).toBe(3);
    expect(r.offeredAtFirstRead).toBe(1);
  });

  it('holding a restored admission: a failed first read does not hold bundles back', async () => {
    const r = await firstReadOf(true);
    expect(r.gets).toBe(1);
    expect(r.offeredAtFirstRead).toBe(0);
  });
});
