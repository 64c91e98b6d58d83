/** `http://keystone:5000`, `…/v3/`, `…/identity` → the v3 API root. */
export function identityV3Url(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return base.endsWith('/v3') ? base : `${base}/v3`;
}
