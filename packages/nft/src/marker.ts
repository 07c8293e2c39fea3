/**
 * The version marker: how a read-back learns which bundle the table holds without fetching
 * every set element. Set `marker` (type mark) holds exactly one element whose key is the
 * bundle version modulo 2^32 and whose comment is `natfleet v<version> <digest>`. A full
 * swap writes it with the table; a delta transaction deletes the previous element by its
 * key and adds the new one, so the delta fails as a whole (and nothing changes) when the
 * live marker is not the version the delta was computed from: a compare-and-swap on the
 * kernel's side. Pure: text in, text out.
 */
import { MARKER_SET, TABLE_REF } from './nft.js';

/** The marker element's key for `version`: version mod 2^32, as nft lists a `mark` (`0x0000002a`). */
export function markerKey(version: number): string {
  return `0x${(version % 0x1_0000_0000).toString(16).padStart(8, '0')}`;
}

/**
 * The marker comment from the listing of the marker set (`list set inet natfleet marker`),
 * or undefined when the listing holds no commented element. Never throws.
 */
export function parseMarkerListing(text: string): string | undefined {
  const m = /elements = \{\s*0x[0-9a-f]+ comment "((?:[^"\\]|\\.)*)"/.exec(text);
  return m?.[1];
}

/** The command that lists only the marker set. */
export const LIST_MARKER_COMMAND = `list set ${TABLE_REF} ${MARKER_SET}`;
