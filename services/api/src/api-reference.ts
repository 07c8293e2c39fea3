/**
 * GET /docs: the API reference page, rendered server-side from the OpenAPI document
 * (openapi.ts) — every route with its parameters, body and responses, then every schema —
 * as one self-contained HTML page (inline CSS, no script, no CDN: it works offline).
 * Public like /openapi.json. Must never describe a route the document does not.
 */
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from './openapi.js';

type Json = Record<string, unknown>;

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const anchor = (name: string): string => `schema-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** A schema as a short type expression with links to components (`IPPool[]`, `string | null`). */
export function typeOf(s: unknown): string {
  if (s === null || typeof s !== 'object') return 'any';
  const o = s as Json;
  if (typeof o.$ref === 'string') {
    const name = o.$ref.split('/').pop()!;
    return `<a href="#${anchor(name)}">${esc(name)}</a>`;
  }
  if ('const' in o) return `<code>${esc(JSON.stringify(o.const))}</code>`;
  if (Array.isArray(o.enum)) return o.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ');
  const alt = (o.anyOf ?? o.oneOf) as unknown[] | undefined;
  if (Array.isArray(alt)) return alt.map(typeOf).join(' | ');
  if (Array.isArray(o.allOf)) return o.allOf.map(typeOf).join(' &amp; ');
  if (o.type === 'array') return `${typeOf(o.items)}[]`;
  if (o.type === 'object' || o.properties) {
    if (o.properties) return `object ${fields(o)}`;
    const pp = o.patternProperties as Json | undefined;
    const value = pp ? Object.values(pp)[0] : typeof o.additionalProperties === 'object' ? o.additionalProperties : undefined;
    return value ? `map of ${typeOf(value)}` : 'object (any fields)';
  }
  return esc(o.type ?? 'any') + (o.format ? ` (${esc(o.format)})` : '');
}

/** An object schema's fields as a table (required ones marked). */
function fields(o: Json): string {
  const props = (o.properties ?? {}) as Json;
  const required = new Set((o.required as string[] | undefined) ?? []);
  const rows = Object.entries(props).map(([k, v]) => {
    const d = (v as Json)?.description;
    return `<tr><td><code>${esc(k)}</code>${required.has(k) ? '' : ' <small>optional</small>'}</td><td>${typeOf(v)}</td><td>${d ? esc(d) : ''}</td></tr>`;
  });
  const more = o.additionalProperties === true ? '<tr><td colspan="3"><small>Other fields are kept as they are.</small></td></tr>' : '';
  return rows.length || more ? `<table class="fields"><tr><th>Field</th><th>Type</th><th>Description</th></tr>${rows.join('')}${more}</table>` : '';
}

function operation(path: string, method: string, op: Json): string {
  const params = (op.parameters as Json[] | undefined) ?? [];
  const paramRows = params.map((p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? '' : ' <small>optional</small>'}</td><td>${esc(p.in)}</td><td>${typeOf(p.schema)}</td><td>${esc(p.description ?? '')}</td></tr>`);
  const body = op.requestBody as Json | undefined;
  const bodyHtml = body
    ? `<h4>Body${body.required ? '' : ' (optional)'}</h4>${body.description ? `<p>${esc(body.description)}</p>` : ''}<ul>${Object.entries(body.content as Json)
        .map(([ct, c]) => `<li><code>${esc(ct)}</code>: ${typeOf((c as Json).schema)}</li>`)
        .join('')}</ul>`
    : '';
  const responses = Object.entries(op.responses as Json).map(([status, r]) => {
    const resp = r as Json;
    const content = Object.entries((resp.content ?? {}) as Json).map(([ct, c]) => `<code>${esc(ct)}</code> ${typeOf((c as Json).schema)}`);
    return `<tr><td class="status s${esc(status[0])}">${esc(status)}</td><td>${esc(resp.description)}</td><td>${content.join('<br>')}</td></tr>`;
  });
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  return `<section class="op" id="${esc(id)}"><h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.description ?? op.summary ?? '').replace(/\n\n/g, '</p><p>')}</p>
${paramRows.length ? `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>${paramRows.join('')}</table>` : ''}
${bodyHtml}<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Body</th></tr>${responses.join('')}</table></section>`;
}

const CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}main{max-width:72rem;margin:0 auto;padding:1rem 2rem}
nav{columns:3 16rem;font-size:.9rem}nav a{display:block}a{color:#0b5cad}code{font:13px ui-monospace,monospace;background:#f2f4f7;padding:0 .2em}
table{border-collapse:collapse;margin:.4rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
.op{border-top:2px solid #d0d7de;padding-top:.5rem}.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;padding:0 .3em;font-size:.85em}
.get{background:#1a6b3a}.post{background:#0b5cad}.put{background:#7a4b00}.delete{background:#a3161c}.status{font-weight:bold}.s2{color:#1a6b3a}.s4,.s5{color:#a3161c}
table.fields{margin:.2rem 0;font-size:.9em}small{color:#57606a}`;

/** The reference page of `doc` (default: the API's own document). */
export function apiReferenceHtml(doc: Json = openApiDocument()): string {
  const info = doc.info as Json;
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const ops = Object.entries(paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
  const tags = [...new Set(ops.map((o) => String((o.op.tags as string[] | undefined)?.[0] ?? 'other')))];
  const schemas = ((doc.components as Json).schemas ?? {}) as Record<string, Json>;
  const toc = ops.map((o) => `<a href="#${esc(`${o.method}-${o.path}`.replace(/[^A-Za-z0-9]+/g, '-'))}">${esc(o.method.toUpperCase())} ${esc(o.path)}</a>`).join('');
  const sections = tags.map((t) => `<h2 id="tag-${esc(t)}">${esc(t)}</h2>${ops.filter((o) => ((o.op.tags as string[] | undefined)?.[0] ?? 'other') === t).map((o) => operation(o.path, o.method, o.op)).join('\n')}`);
  const schemaHtml = Object.entries(schemas).map(([name, s]) => `<section id="${anchor(name)}"><h3>${esc(name)}</h3>${s.description ? `<p>${esc(s.description)}</p>` : ''}<p>${typeOf({ ...s, description: undefined })}</p></section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(info.title)} reference</title><style>${CSS}</style></head>
<body><main><h1>${esc(info.title)} reference <small>OpenAPI ${esc(doc.openapi)}, version ${esc(info.version)}</small></h1>
<p>${esc(info.description ?? '')}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<h2>Routes</h2><nav aria-label="Routes">${toc}</nav>${sections.join('\n')}
<h2 id="schemas">Schemas</h2>${schemaHtml.join('\n')}</main></body></html>`;
}

// The page has no script and loads nothing: it may only use its own inline style.
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Registers GET /docs (no token: the page holds only what /openapi.json does). Rendered
 * once, at the first request: a render takes tens of ms of CPU, and anyone may ask.
 */
export function registerApiReference(app: FastifyInstance, render: () => string = apiReferenceHtml): void {
  let html: string | undefined;
  app.get('/docs', async (_req, reply) => {
    html ??= render();
    return reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CSP).header('x-content-type-options', 'nosniff').send(html);
  });
}
