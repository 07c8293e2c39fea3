import { describe, expect, it } from 'vitest';
import { SseParser, readEvents } from '../src/client/sse.js';

describe('SseParser', () => {
  it('parses named events, joins data lines and ignores comments', () => {
    const p = new SseParser();
    expect(p.feed(': natfleet events\n\nevent: rollout\ndata: {"a":1}\n\n: ping\n\ndata: one\ndata: two\nid: 7\n\n')).toEqual([
      { event: 'rollout', data: '{"a":1}' },
      { event: 'message', data: 'one\ntwo', id: '7' },
    ]);
  });

  it('keeps a partial event across chunks, whatever the split, and handles CRLF and CR', () => {
    const text = 'event: rollout\r\ndata: {"v":12}\r\n\r\nevent: x\rdata:no-space\r\r\n';
    const whole = new SseParser().feed(text);
    expect(whole).toEqual([{ event: 'rollout', data: '{"v":12}' }, { event: 'x', data: 'no-space' }]);
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      expect([...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))], `cut at ${cut}`).toEqual(whole);
    }
  });

  it('dispatches nothing for a block without data and nothing before the blank line', () => {
    const p = new SseParser();
    expect(p.feed('event: rollout\n\n')).toEqual([]);
    expect(p.feed('data: x')).toEqual([]);
    expect(p.feed('\n')).toEqual([]);
    expect(p.feed('\n')).toEqual([{ event: 'message', data: 'x' }]);
  });

  it('drops only one leading space of a value and treats a bare field name as empty', () => {
    expect(new SseParser().feed('data:  two spaces\ndata\n\n')).toEqual([{ event: 'message', data: ' two spaces\n' }]);
  });
});

describe('readEvents', () => {
  it('reads a byte stream split inside a multi-byte character and flushes a last unterminated event', async () => {
    const bytes = new TextEncoder().encode('event: rollout\ndata: {"node":"nœud"}\n\nevent: last\ndata: end');
    const cut = bytes.indexOf(0xc5) + 1; // inside "œ"
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, cut));
        c.enqueue(bytes.slice(cut));
        c.close();
      },
    });
    const seen: unknown[] = [];
    await readEvents(body, (e) => seen.push(e));
    expect(seen).toEqual([{ event: 'rollout', data: '{"node":"nœud"}' }, { event: 'last', data: 'end' }]);
  });
});
