/** A Nucleon server configured like the neutron-server the reference captures came from. */
import { startTestServer, type TestServer } from '@nucleon/core/testing';
import l3Router from '@nucleon/l3-router';
import metering from '@nucleon/metering';
import ml2 from '@nucleon/ml2';

/** The address the reference server answered on; sent as `Host` so links compare as they are. */
export const REFERENCE_HOST = '127.0.0.1:9696';

/**
 * ML2 with flat/vlan/vxlan and tenant VXLAN networks, a flat `public` physnet (the external
 * network of the captures), the L3 and metering plugins (`service_plugins = router,metering`), no
 * quota limits.
 */
export function startReferenceServer(): Promise<TestServer> {
  return startTestServer({
    core: ml2,
    services: [l3Router, metering],
    config: {
      ml2: { tenant_network_types: 'vxlan', type_drivers: 'local,flat,vlan,vxlan' },
      ml2_type_vxlan: { vni_ranges: '1001:2000' },
      ml2_type_flat: { flat_networks: 'public' },
      quotas: {
        quota_network: -1,
        quota_subnet: -1,
        quota_port: -1,
        quota_security_group: -1,
        quota_security_group_rule: -1,
        quota_router: -1,
        quota_floatingip: -1,
      },
    },
  });
}
