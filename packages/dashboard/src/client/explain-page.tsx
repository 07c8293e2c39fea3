/**
 * The explain form: node (optional), source and destination → POST /v1/explain, answered
 * in `natctl explain`'s words (format.ts formatExplanation). A refusal shows the API's message.
 */
import { useState } from 'preact/hooks';
import type { Session } from './app.js';
import { formatExplanation } from './format.js';
import type { Explanation } from './types.js';

export function ExplainPage(props: { session: Session; nodes: string[] }) {
  const [node, setNode] = useState('');
  const [src, setSrc] = useState('');
  const [dst, setDst] = useState('');
  const [answer, setAnswer] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      const x = await props.session.api.post<Explanation>('/v1/explain', { src: src.trim(), dst: dst.trim(), ...(node ? { node } : {}) });
      setAnswer(formatExplanation(x));
      setError('');
    } catch (err) {
      setAnswer('');
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="explain-title">
      <h1 id="explain-title">Explain a flow</h1>
      <form onSubmit={submit} class="grid">
        <label for="explain-node">Node</label>
        <select id="explain-node" value={node} onChange={(e) => setNode((e.target as HTMLSelectElement).value)}>
          <option value="">(fleet defaults)</option>
          {props.nodes.map((n) => (
            <option value={n}>{n}</option>
          ))}
        </select>
        <label for="explain-src">Source address</label>
        <input id="explain-src" required placeholder="192.168.1.10" value={src} onInput={(e) => setSrc((e.target as HTMLInputElement).value)} />
        <label for="explain-dst">Destination address</label>
        <input id="explain-dst" required placeholder="8.8.8.8" value={dst} onInput={(e) => setDst((e.target as HTMLInputElement).value)} />
        <span />
        <button type="submit">Explain</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      {answer && (
        <pre id="explain-answer" class="diff" aria-live="polite">
          {answer}
        </pre>
      )}
    </section>
  );
}
