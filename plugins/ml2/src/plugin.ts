import {
  coreOptions,
  StartupError,
  type Context,
  type CorePluginApi,
  type ListOptions,
  type Network,
  type NetworkCreate,
  type NetworkUpdate,
  type Port,
  type PortChangeOptions,
  type PortCreate,
  type PortUpdate,
  type Runtime,
  type SecurityGroup,
  type SecurityGroupCreate,
  type SecurityGroupRule,
  type SecurityGroupRuleCreate,
  type Subnet,
  type SubnetCreate,
  type SubnetUpdate,
  type UpdateBody,
  type securityGroup,
} from '@nucleon/core';
import { eq } from 'drizzle-orm';
import { NetworkService, networksTable } from './networks/networks.js';
import { TypeManager } from './networks/segments.js';
import { ml2Options } from './options.js';
import { PortService, portsTable } from './ports/ports.js';
import { SecurityGroupService } from './security-groups/security-groups.js';
import { subnets } from './subnets/schema.js';
import { SubnetService, subnetsTable } from './subnets/subnets.js';

/**
 * The core plugin (Neutron's ML2 with its DB base): the methods the API calls for networks,
 * subnets, ports and security groups, and what other plugins call through the plugin directory
 * (`runtime.plugins.core<Ml2Plugin>()`).
 */
export class Ml2Plugin implements CorePluginApi {
  readonly securityGroups = new SecurityGroupService();
  readonly subnets: SubnetService;
  readonly ports: PortService;
  readonly networks: NetworkService;

  constructor(readonly runtime: Runtime) {
    let types: TypeManager;
    try {
      types = new TypeManager(runtime.config.get(ml2Options), runtime.config.get(coreOptions).DEFAULT.global_physnet_mtu);
    } catch (error) {
      throw new StartupError([(error as Error).message]);
    }
    this.subnets = new SubnetService(runtime, (ctx, subnet) => this.ports.ipam.addEui64ToPorts(ctx, subnet));
    this.ports = new PortService(runtime, this.subnets, this.securityGroups);
    this.networks = new NetworkService(types, {
      ensureDefaultSecurityGroup: (ctx, projectId) => this.securityGroups.ensureDefault(ctx, projectId),
      deletePort: (ctx, id) => this.ports.delete(ctx, id, { portCheck: false }),
      removeSubnets: async (ctx, networkId) => {
        for (const subnet of await subnetsTable.findMany(ctx, { where: [eq(subnets.network_id, networkId)] })) {
          await this.subnets.remove(ctx, subnet, false);
        }
      },
    });
  }

  createNetwork(ctx: Context, body: NetworkCreate): Promise<Network> {
    return this.networks.create(ctx, body);
  }
  updateNetwork(ctx: Context, id: string, body: NetworkUpdate): Promise<Network> {
    return this.networks.update(ctx, id, body);
  }
  deleteNetwork(ctx: Context, id: string): Promise<void> {
    return this.networks.delete(ctx, id);
  }
  getNetwork(ctx: Context, id: string): Promise<Network> {
    return networksTable.get(ctx, id);
  }
  getNetworks(ctx: Context, options?: ListOptions): Promise<Network[]> {
    return networksTable.findMany(ctx, options);
  }

  createSubnet(ctx: Context, body: SubnetCreate): Promise<Subnet> {
    return this.subnets.create(ctx, body);
  }
  updateSubnet(ctx: Context, id: string, body: SubnetUpdate): Promise<Subnet> {
    return this.subnets.update(ctx, id, body);
  }
  deleteSubnet(ctx: Context, id: string): Promise<void> {
    return this.subnets.delete(ctx, id);
  }
  getSubnet(ctx: Context, id: string): Promise<Subnet> {
    return subnetsTable.get(ctx, id);
  }
  getSubnets(ctx: Context, options?: ListOptions): Promise<Subnet[]> {
    return subnetsTable.findMany(ctx, options);
  }

  createPort(ctx: Context, body: PortCreate): Promise<Port> {
    return this.ports.create(ctx, body);
  }
  updatePort(ctx: Context, id: string, body: PortUpdate, options?: PortChangeOptions): Promise<Port> {
    return this.ports.update(ctx, id, body, options);
  }
  deletePort(ctx: Context, id: string, options?: PortChangeOptions): Promise<void> {
    return this.ports.delete(ctx, id, options);
  }
  getPort(ctx: Context, id: string): Promise<Port> {
    return portsTable.get(ctx, id);
  }
  getPorts(ctx: Context, options?: ListOptions): Promise<Port[]> {
    return portsTable.findMany(ctx, options);
  }

  createSecurityGroup(ctx: Context, body: SecurityGroupCreate): Promise<SecurityGroup> {
    return this.securityGroups.create(ctx, body);
  }
  updateSecurityGroup(ctx: Context, id: string, body: UpdateBody<typeof securityGroup>): Promise<SecurityGroup> {
    return this.securityGroups.update(ctx, id, body);
  }
  deleteSecurityGroup(ctx: Context, id: string): Promise<void> {
    return this.securityGroups.delete(ctx, id);
  }
  createSecurityGroupRule(ctx: Context, body: SecurityGroupRuleCreate): Promise<SecurityGroupRule> {
    return this.securityGroups.createRule(ctx, body);
  }
  deleteSecurityGroupRule(ctx: Context, id: string): Promise<void> {
    return this.securityGroups.deleteRule(ctx, id);
  }
}
