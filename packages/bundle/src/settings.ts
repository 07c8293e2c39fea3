/**
 * Effective NAT settings of one node: the fleet's settings with that node's override
 * (from a `node.<name>` FelixConfiguration) laid on top. Shared by the enforcer's
 * renderer and the compiler's explain so both read a bundle the same way.
 */
import type { BundleBody, NatSettings } from './types.js';

/**
 * Fleet settings merged with `bundle.nodes[nodeName]`; only fields the override sets
 * replace the fleet's. A node without an override (or an unknown node) gets the fleet
 * settings unchanged.
 */
export function effectiveSettings(bundle: Pick<BundleBody, 'fleet' | 'nodes'>, nodeName: string): NatSettings {
  const override = Object.hasOwn(bundle.nodes, nodeName) ? bundle.nodes[nodeName] : undefined;
  const merged: NatSettings = { ...bundle.fleet.settings };
  if (override) {
    for (const [k, v] of Object.entries(override)) {
      if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return merged;
}
