/**
 * oslo.policy's rule language, parsed into a tree: `rule:admin_or_owner or (role:member and
 * tenant_id:%(tenant_id)s)`, `not rule:network_device`, `@` (always), `!` (never), `""` (always).
 * oslo's tokenizer plus a recursive-descent parser with its precedence (`not` > `and` > `or`).
 */

/** One parsed rule. */
export type Check =
  | { readonly type: 'always' }
  | { readonly type: 'never' }
  | { readonly type: 'not'; readonly check: Check }
  | { readonly type: 'and' | 'or'; readonly checks: readonly Check[] }
  /** `rule:name`: another rule. */
  | { readonly type: 'rule'; readonly name: string }
  /** `role:name`: the caller has the role (case-insensitive). */
  | { readonly type: 'role'; readonly role: string }
  /** Neutron's `field:networks:shared=True` / `field:port:device_owner=~^network:`. */
  | { readonly type: 'field'; readonly resource: string; readonly field: string; readonly value: string; readonly regex?: RegExp }
  /**
   * `kind:match`: the caller's credential `kind` equals `match`, where `match` is a literal or a
   * target value `%(key)s` (`%(network:tenant_id)s` names a parent's attribute).
   */
  | { readonly type: 'generic'; readonly kind: string; readonly literal?: string; readonly targetKey?: string };

/** A rule that does not parse; `message` says where. */
export class RuleSyntaxError extends Error {
  constructor(rule: string, reason: string) {
    super(`cannot parse policy rule "${rule}": ${reason}`);
    this.name = 'RuleSyntaxError';
  }
}

type Token = { kind: '(' | ')' | 'and' | 'or' | 'not' } | { kind: 'check'; text: string };

/**
 * oslo.policy's tokenizer: split on whitespace, then peel leading `(` and trailing `)` off each
 * word (so `%(tenant_id)s` inside a check stays whole).
 */
function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  for (const word of rule.split(/\s+/)) {
    if (word === '') continue;
    const opened = word.length - word.replace(/^\(+/, '').length;
    for (let i = 0; i < opened; i++) tokens.push({ kind: '(' });
    const inner = word.slice(opened);
    const text = inner.replace(/\)+$/, '');
    const closed = inner.length - text.length;
    const lower = text.toLowerCase();
    if (lower === 'and' || lower === 'or' || lower === 'not') tokens.push({ kind: lower });
    else if (text !== '') tokens.push({ kind: 'check', text });
    for (let i = 0; i < closed; i++) tokens.push({ kind: ')' });
  }
  return tokens;
}

function unquote(text: string): string {
  const first = text[0];
  return (first === "'" || first === '"') && text.endsWith(first) && text.length >= 2 ? text.slice(1, -1) : text;
}

function parseCheck(rule: string, text: string): Check {
  if (text === '@') return { type: 'always' };
  if (text === '!') return { type: 'never' };
  const colon = text.indexOf(':');
  if (colon <= 0) throw new RuleSyntaxError(rule, `"${text}" is not a check (kind:match)`);
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  if (kind === 'rule') return { type: 'rule', name: match };
  if (kind === 'role') return { type: 'role', role: unquote(match).toLowerCase() };
  if (kind === 'field') {
    // field:<resource>:<field>=<value>; the field may contain ':' (router:external).
    const resourceEnd = match.indexOf(':');
    const equals = match.indexOf('=', resourceEnd + 1);
    if (resourceEnd <= 0 || equals < 0) throw new RuleSyntaxError(rule, `"${text}" is not field:<resource>:<field>=<value>`);
    const value = match.slice(equals + 1);
    return {
      type: 'field',
      resource: match.slice(0, resourceEnd),
      field: match.slice(resourceEnd + 1, equals),
      value,
      ...(value.startsWith('~') ? { regex: new RegExp(value.slice(1)) } : {}),
    };
  }
  if (kind === 'http' || kind === 'https') throw new RuleSyntaxError(rule, 'http checks are not supported');
  const target = /^%\((.+)\)s$/.exec(match);
  return target ? { type: 'generic', kind, targetKey: target[1]! } : { type: 'generic', kind, literal: unquote(match) };
}

/** Parses one rule (an empty rule always passes, as in oslo.policy). */
export function parseRule(rule: string): Check {
  const tokens = tokenize(rule);
  if (tokens.length === 0) return { type: 'always' };
  let at = 0;
  const peek = () => tokens[at];
  const fail = (reason: string): never => {
    throw new RuleSyntaxError(rule, reason);
  };

  const orExpr = (): Check => {
    const checks = [andExpr()];
    while (peek()?.kind === 'or') {
      at++;
      checks.push(andExpr());
    }
    return checks.length === 1 ? checks[0]! : { type: 'or', checks };
  };
  const andExpr = (): Check => {
    const checks = [notExpr()];
    while (peek()?.kind === 'and') {
      at++;
      checks.push(notExpr());
    }
    return checks.length === 1 ? checks[0]! : { type: 'and', checks };
  };
  const notExpr = (): Check => {
    if (peek()?.kind === 'not') {
      at++;
      return { type: 'not', check: notExpr() };
    }
    return atom();
  };
  const atom = (): Check => {
    const token = tokens[at++];
    if (!token) return fail('unexpected end');
    if (token.kind === '(') {
      const inner = orExpr();
      if (tokens[at++]?.kind !== ')') fail('missing ")"');
      return inner;
    }
    if (token.kind !== 'check') return fail(`unexpected "${token.kind}"`);
    return parseCheck(rule, token.text);
  };

  const check = orExpr();
  if (at < tokens.length) fail(`unexpected "${tokens[at]!.kind === 'check' ? (tokens[at] as { text: string }).text : tokens[at]!.kind}"`);
  return check;
}

/** A check as oslo.policy prints it (used in PolicyNotAuthorized messages). */
export function ruleText(check: Check): string {
  switch (check.type) {
    case 'always':
      return '@';
    case 'never':
      return '!';
    case 'not':
      return `not ${ruleText(check.check)}`;
    case 'and':
    case 'or':
      return `(${check.checks.map(ruleText).join(` ${check.type} `)})`;
    case 'rule':
      return `rule:${check.name}`;
    case 'role':
      return `role:${check.role}`;
    case 'field':
      return `field:${check.resource}:${check.field}=${check.value}`;
    case 'generic':
      return `${check.kind}:${check.targetKey !== undefined ? `%(${check.targetKey})s` : check.literal}`;
  }
}
