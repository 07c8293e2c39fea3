/**
 * Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the
 * page reads GET /v1/events as a byte stream and parses it here. Owns the text/event-stream
 * framing (WHATWG "event stream interpretation": `event:`, `data:` joined by newlines,
 * `id:`, comments, CRLF/LF/CR line ends, one leading space dropped). Never touches the DOM,
 * the token or the network beyond the stream it is given.
 */

export interface SseEvent {
  /** `message` when the block named none. */
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental parser: feed it text as it arrives, get back the events completed so far.
 * A block with no data line dispatches nothing (comments such as `: ping` are keep-alives).
 * Text after the last blank line is kept for the next feed.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const ev = this.data.length > 0 ? { event: this.event || 'message', data: this.data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) } : undefined;
      this.event = '';
      this.data = [];
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return undefined;
  }
}

/**
 * Reads `body` to its end, calling `onEvent` for each event. Resolves when the server
 * closes the stream; rejects when reading fails (including an abort).
 */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<void> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const e of parser.feed(decoder.decode(value, { stream: true }))) onEvent(e);
  }
  for (const e of parser.feed(decoder.decode() + '\n\n')) onEvent(e);
}
