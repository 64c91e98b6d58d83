/**
 * The reference captures (requests to Neutron 21.0.0 "Zed" and its answers), copied into
 * `test/fixtures/neutron-zed/` from the project's shared reference so the suite runs from a clone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Json } from './compare.js';

/** One captured exchange, as `NNN-name.json` stores it. */
export interface Capture {
  /** The file name without `.json`, e.g. `006-network-create`. */
  readonly name: string;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string>>;
    /** JSON, or the raw text when `body_is_json` is false (deliberately broken JSON). */
    readonly body: Json;
    readonly body_is_json?: boolean;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: Json;
    readonly body_is_json?: boolean;
  };
}

const FOLDER = new URL('../fixtures/neutron-zed/', import.meta.url);

/** Every copied capture, in the order they were made. */
export function loadCaptures(): Capture[] {
  return readdirSync(FOLDER)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.slice(0, -'.json'.length), ...JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8')) }));
}

/**
 * Captures of the reference run that are not copied, by number, and why (none: every resource
 * captured is served by a plugin of this repository).
 */
export const NOT_REPLAYED: ReadonlyArray<{ readonly from: number; readonly to: number; readonly why: string }> = [];
