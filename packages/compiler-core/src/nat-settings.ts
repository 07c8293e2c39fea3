/**
 * FelixConfiguration → bundle NAT settings. `default` gives the fleet's settings;
 * `node.<name>` gives that node's override with only the fields it sets. Which fields a
 * spec sets, and natfleet's defaults, are the model's (natFieldsOf, NAT_DEFAULTS).
 */
import type { NatSettings } from '@natfleet/bundle';
import { NAT_DEFAULTS, felixConfigScope, natFieldsOf, type FelixConfiguration } from '@natfleet/model';
import type { Keyed } from './snapshot.js';

export interface ResolvedSettings {
  fleet: NatSettings;
  /** node name → override, only for nodes whose override sets at least one NAT field. */
  nodes: Record<string, Partial<NatSettings>>;
}

/** Fleet settings (defaults + `default`) and per-node overrides. No configs → defaults, no overrides. */
export function resolveSettings(configs: readonly Keyed<FelixConfiguration>[]): ResolvedSettings {
  let fleet: NatSettings = { ...NAT_DEFAULTS };
  const nodes: [string, Partial<NatSettings>][] = [];
  for (const { name, resource } of configs) {
    const scope = felixConfigScope(name);
    const fields = natFieldsOf(resource.spec);
    if (scope?.scope === 'global') fleet = { ...fleet, ...fields };
    else if (scope?.scope === 'node' && Object.keys(fields).length > 0) nodes.push([scope.node, fields]);
  }
  // Sorted keys keep the bundle canonical whatever order configs arrived in.
  return { fleet, nodes: Object.fromEntries(nodes.sort(([a], [b]) => (a < b ? -1 : 1))) };
}
