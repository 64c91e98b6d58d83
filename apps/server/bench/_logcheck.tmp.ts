import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './load.js';
import { freePort, startServer } from './processes.js';
const dir = await mkdtemp(join(tmpdir(), 'nb-log-'));
const port = await freePort();
const conf = join(dir, 'n.conf');
await writeFile(conf, `[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = ${port}\ncore_plugin = ml2\nauth_strategy = noauth\ndebug = false\n[database]\nconnection = pglite://${dir}/data\n[quotas]\nquota_port = -1\n[ml2]\ntenant_network_types = vxlan\ntype_drivers = vxlan\n[ml2_type_vxlan]\nvni_ranges = 1001:2000\n`);
for (const level of ['info', 'warn', 'info', 'warn']) {
  const s = await startServer({ name: 'n', cwd: process.cwd(), args: ['--conditions=nucleon-source', '--import', 'tsx', 'src/cli.ts', '--config-file', conf], url: `http://127.0.0.1:${port}/`, logFile: join(dir, 'log'), env: { NUCLEON_LOG_LEVEL: level } });
  const base = `http://127.0.0.1:${port}`;
  let net = ((await (await fetch(`${base}/v2.0/networks`)).json()) as any).networks[0]?.id;
  if (!net) {
    net = ((await (await fetch(`${base}/v2.0/networks`, { method: 'POST', body: JSON.stringify({ network: { name: 'x' } }) })).json()) as any).network.id;
    await fetch(`${base}/v2.0/subnets`, { method: 'POST', body: JSON.stringify({ subnet: { network_id: net, cidr: '10.0.0.0/16', ip_version: 4 } }) });
    await fetch(`${base}/v2.0/ports`, { method: 'POST', body: JSON.stringify({ port: { network_id: net } }) });
  }
  const id = ((await (await fetch(`${base}/v2.0/ports`)).json()) as any).ports[0].id;
  await run(base, { path: `/v2.0/ports/${id}` }, { connections: 8, seconds: 3 });
  const m = await run(base, { path: `/v2.0/ports/${id}` }, { connections: 8, seconds: 8 });
  console.log(level, m.rps.toFixed(0), 'req/s p50', m.p50.toFixed(2), 'failed', m.failed);
  await s.stop();
}
