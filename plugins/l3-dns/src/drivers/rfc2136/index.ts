export { Rfc2136Driver, type Rfc2136Options } from './driver.js';
export type { TsigAlgorithm } from './tsig.js';
