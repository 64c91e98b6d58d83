import { InvalidInput } from '../errors/neutron-error.js';
import { canonicalIp, parseCidr, parseIp } from '../net/ip.js';
import { canonicalMac } from '../net/mac.js';
import { pyRepr, pyStr } from './python-repr.js';

/** How an attribute is stored and rendered; also picks its DB column type. */
export type AttributeKind = 'uuid' | 'string' | 'boolean' | 'integer' | 'enum' | 'ip' | 'cidr' | 'mac' | 'json' | 'timestamp';

/** Type-level flags of an attribute, so request and response types follow the attribute map. */
export interface AttributeFlags {
  post: boolean;
  put: boolean;
  /** May be missing from a validated POST body (no default; the plugin decides). */
  optional: boolean;
  visible: boolean;
  /** Has a column in the owning plugin's table. */
  stored: boolean;
}

type Initial = { post: false; put: false; optional: false; visible: true; stored: true };
type With<F extends AttributeFlags, K extends keyof AttributeFlags, V extends boolean> = Omit<F, K> & {
  [P in K]: V;
};

/** Returns the reason a value is invalid, or undefined when it is fine. */
export type Validator<T = unknown> = (value: T) => string | undefined;
/** Normalises a request value; throws a `NeutronError` (usually `InvalidInput`) when it cannot. */
export type Converter = (value: unknown) => unknown;

/** Everything the API machinery knows about one attribute (Neutron's attribute-map entry). */
export interface AttributeSpec {
  readonly kind: AttributeKind;
  readonly allowPost: boolean;
  readonly allowPut: boolean;
  /** `{ value }` when a default is filled in on POST; a function is called per request. */
  readonly default?: { readonly value: unknown };
  /** Absent on POST without a default: the plugin computes it (Neutron's ATTR_NOT_SPECIFIED). */
  readonly optional: boolean;
  readonly nullable: boolean;
  readonly visible: boolean;
  readonly filter: boolean;
  readonly sort: boolean;
  /** Alias of the extension that adds this attribute; undefined for the resource's own attributes. */
  readonly extension?: string;
  /** Setting it is subject to a per-attribute policy rule (`create_network:shared`). */
  readonly enforcePolicy: boolean;
  /** Whether it has a column in the owning plugin's table. */
  readonly stored: boolean;
  /** Column name when it differs from the attribute name (`router:external` → `router_external`). */
  readonly column?: string;
  readonly maxLength?: number;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly ipVersion?: 4 | 6;
  readonly converters: readonly Converter[];
  readonly validators: readonly Validator[];
}

/**
 * One attribute of a resource, built with `attr.*()` and refined with chainable modifiers.
 * `T` is its API type, `K` its kind, `F` the type-level flags used by `CreateBody`/`UpdateBody`.
 */
export class Attribute<T, K extends AttributeKind = AttributeKind, F extends AttributeFlags = Initial> {
  declare readonly __type: T;
  declare readonly __kind: K;
  declare readonly __flags: F;

  /** What the API machinery reads; the builder methods return refined copies. */
  readonly spec: AttributeSpec;

  constructor(spec: Partial<AttributeSpec> & { kind: AttributeKind }) {
    this.spec = {
      allowPost: false,
      allowPut: false,
      optional: false,
      nullable: false,
      visible: true,
      filter: false,
      sort: false,
      enforcePolicy: false,
      stored: true,
      converters: [],
      validators: [],
      ...spec,
    };
  }

  private with<R>(changes: Partial<AttributeSpec>): R {
    return new Attribute({ ...this.spec, ...changes }) as R;
  }

  /** Allowed in POST bodies; required unless `.default()` or `.optional()` follows. */
  post(): Attribute<T, K, With<F, 'post', true>> {
    return this.with({ allowPost: true });
  }
  /** Allowed in PUT bodies. */
  put(): Attribute<T, K, With<F, 'put', true>> {
    return this.with({ allowPut: true });
  }
  /** Filled in on POST when absent (a function is called per request). */
  default(value: T | (() => T)): Attribute<T, K, F> {
    return this.with({ default: { value } });
  }
  /** Not required on POST; the plugin computes it when absent. */
  optional(): Attribute<T, K, With<F, 'optional', true>> {
    return this.with({ optional: true });
  }
  /** Accepts and may hold `null`. */
  nullable(): Attribute<T | null, K, F> {
    return this.with({ nullable: true });
  }
  /** Accepted in requests but never shown (Neutron's `is_visible: False`). */
  hidden(): Attribute<T, K, With<F, 'visible', false>> {
    return this.with({ visible: false });
  }
  /** May be used as a list filter (`?name=x`). */
  filterable(): Attribute<T, K, F> {
    return this.with({ filter: true });
  }
  /** May be used as a filter and a sort key. */
  sortable(): Attribute<T, K, F> {
    return this.with({ filter: true, sort: true });
  }
  /** Added by the extension with this alias; served only when that extension is. */
  ext(alias: string): Attribute<T, K, F> {
    return this.with({ extension: alias });
  }
  /** Setting it is checked against a per-attribute policy rule. */
  policy(): Attribute<T, K, F> {
    return this.with({ enforcePolicy: true });
  }
  /** Not a column: the owning table binding computes it. */
  computed(): Attribute<T, K, With<F, 'stored', false>> {
    return this.with({ stored: false });
  }
  /** Stored in a column with another name. */
  columnName(name: string): Attribute<T, K, F> {
    return this.with({ column: name });
  }
  /** Adds a normaliser that runs before validation. */
  convert(converter: Converter): Attribute<T, K, F> {
    return this.with({ converters: [...this.spec.converters, converter] });
  }
  /** Adds a validator; its reason becomes `Invalid input for <attr>. Reason: <reason>.` */
  validate(validator: Validator<T>): Attribute<T, K, F> {
    return this.with({ validators: [...this.spec.validators, validator as Validator] });
  }
}

/** Any attribute, whatever its type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAttribute = Attribute<any, AttributeKind, AttributeFlags>;
/** An attribute map: attribute name → attribute. */
export type AttributeMap = Record<string, AnyAttribute>;

/** The API type of an attribute. */
export type AttrType<A> = A extends Attribute<infer T, AttributeKind, AttributeFlags> ? T : never;
/** The type-level flags of an attribute. */
export type FlagsOf<A> = A extends Attribute<unknown, AttributeKind, infer F> ? F : never;
/** The kind of an attribute. */
export type KindOf<A> = A extends Attribute<unknown, infer K, AttributeFlags> ? K : never;

/** The response shape of a resource (its visible attributes). */
export type ApiShape<M extends AttributeMap> = {
  -readonly [K in keyof M as FlagsOf<M[K]>['visible'] extends true ? K : never]: AttrType<M[K]>;
};
/** The POST body after validation, with defaults filled in. */
export type CreateShape<M extends AttributeMap> = {
  -readonly [K in keyof M as FlagsOf<M[K]>['post'] extends true ? (FlagsOf<M[K]>['optional'] extends true ? never : K) : never]: AttrType<
    M[K]
  >;
} & {
  -readonly [K in keyof M as FlagsOf<M[K]>['post'] extends true ? (FlagsOf<M[K]>['optional'] extends true ? K : never) : never]?: AttrType<
    M[K]
  >;
};
/** The PUT body after validation. */
export type UpdateShape<M extends AttributeMap> = {
  -readonly [K in keyof M as FlagsOf<M[K]>['put'] extends true ? K : never]?: AttrType<M[K]>;
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in its usual 8-4-4-4-12 form. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Neutron's `convert_to_boolean`. */
export function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
  }
  throw InvalidInput({ error_message: `'${pyStr(value)}' cannot be converted to boolean` });
}

/** Neutron's `convert_to_int`. */
export function toInteger(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw InvalidInput({ error_message: `'${pyStr(value)}' is not an integer` });
}

/** `validate_ip_address`: dotted-quad IPv4 (no leading zeros) or IPv6. */
export function ipAddressReason(value: unknown): string | undefined {
  if (typeof value === 'string' && parseIp(value)) {
    const canonical = canonicalIp(value)!;
    if (!value.includes(':') && canonical !== value) {
      return `'${value}' is not an accepted IP address, '${canonical}' is recommended`;
    }
    return undefined;
  }
  return `'${pyStr(value)}' is not a valid IP address`;
}

function stringValidator(maxLength: number | undefined): Validator {
  return (value) => {
    if (typeof value !== 'string') return `'${pyStr(value)}' is not a valid string`;
    if (maxLength !== undefined && value.length > maxLength) {
      return `'${value}' exceeds maximum length of ${maxLength}`;
    }
    return undefined;
  };
}

/** Builders for attributes, one per kind. */
export const attr = {
  uuid: () =>
    new Attribute<string, 'uuid'>({
      kind: 'uuid',
      converters: [(v) => (typeof v === 'string' && UUID_RE.test(v) ? v.toLowerCase() : v)],
      validators: [(v) => (isUuid(v) ? undefined : `'${pyStr(v)}' is not a valid UUID`)],
    }),
  string: (maxLength: number | undefined = 255) =>
    new Attribute<string, 'string'>({ kind: 'string', maxLength, validators: [stringValidator(maxLength)] }),
  boolean: () => new Attribute<boolean, 'boolean'>({ kind: 'boolean', converters: [toBoolean] }),
  integer: (range: { min?: number; max?: number } = {}) =>
    new Attribute<number, 'integer'>({
      kind: 'integer',
      ...range,
      converters: [toInteger],
      validators: [
        (v) => {
          const n = v as number;
          if (range.min !== undefined && n < range.min) return `'${n}' is too small - must be at least '${range.min}'`;
          if (range.max !== undefined && n > range.max) return `'${n}' is too large - must be no larger than '${range.max}'`;
          return undefined;
        },
      ],
    }),
  enum: <const V extends readonly string[]>(values: V) =>
    new Attribute<V[number], 'enum'>({
      kind: 'enum',
      values,
      validators: [(v) => (values.includes(v as string) ? undefined : `${pyRepr(v)} is not in ${pyRepr(values)}`)],
    }),
  ip: (ipVersion?: 4 | 6) =>
    new Attribute<string, 'ip'>({
      kind: 'ip',
      ...(ipVersion ? { ipVersion } : {}),
      converters: [(v) => (typeof v === 'string' && v.includes(':') ? (canonicalIp(v) ?? v) : v)],
      validators: [
        (v) => {
          const reason = ipAddressReason(v);
          if (reason || !ipVersion || parseIp(v as string)?.version === ipVersion) return reason;
          return `'${pyStr(v)}' is not a valid IP address`;
        },
      ],
    }),
  cidr: () =>
    new Attribute<string, 'cidr'>({
      kind: 'cidr',
      validators: [(v) => (parseCidr(v) ? undefined : `'${pyStr(v)}' is not a valid IP subnet`)],
    }),
  mac: () =>
    new Attribute<string, 'mac'>({
      kind: 'mac',
      converters: [(v) => canonicalMac(v) ?? v],
      validators: [(v) => (canonicalMac(v) ? undefined : `'${pyStr(v)}' is not a valid MAC address`)],
    }),
  json: <T>() => new Attribute<T, 'json'>({ kind: 'json' }),
  timestamp: () => new Attribute<string, 'timestamp'>({ kind: 'timestamp' }),
};
