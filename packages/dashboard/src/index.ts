/**
 * Where the built dashboard is: the static assets (index.html, hashed JS and CSS) that the
 * API serves at `/`. Owns nothing else on the Node side; the browser app lives in
 * src/client and is bundled by src/build-assets.mjs. Never reads tokens or talks to the API.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of the built assets (dist/public/, from src/ or dist/ alike). */
export const DASHBOARD_ASSETS_DIR: string = fileURLToPath(new URL('../dist/public/', import.meta.url));

/** True when the assets were built (index.html present); false before `npm run build`. */
export function dashboardBuilt(dir: string = DASHBOARD_ASSETS_DIR): boolean {
  return existsSync(`${dir}/index.html`);
}
