import type { Context } from '../context/context.js';
import type { ListOptions } from '../resources/resource-table.js';
import type { Network } from './network.js';
import type { Port, PortCreate, PortUpdate } from './port.js';
import type { Subnet } from './subnet.js';

/** How a port change was asked for (Neutron's `l3_port_check`). */
export interface PortChangeOptions {
  /**
   * True (the default) when an API user asks; false when a service plugin changes ports it owns
   * (a router's interfaces, a floating IP's external port). Published as `port_check` in the
   * event metadata, so plugins protect their ports from API users only.
   */
  readonly portCheck?: boolean;
}

/**
 * What other plugins may ask of the core plugin, found with `runtime.plugins.core()`
 * (Neutron's `NeutronPluginBaseV2`). Reads take the list options of the API (attribute filters,
 * sorting); writes take validated bodies (see `runtime.requestBody`).
 */
export interface CorePluginApi {
  getNetwork(ctx: Context, id: string): Promise<Network>;
  getNetworks(ctx: Context, options?: ListOptions): Promise<Network[]>;
  getSubnet(ctx: Context, id: string): Promise<Subnet>;
  getSubnets(ctx: Context, options?: ListOptions): Promise<Subnet[]>;
  getPort(ctx: Context, id: string): Promise<Port>;
  getPorts(ctx: Context, options?: ListOptions): Promise<Port[]>;
  createPort(ctx: Context, body: PortCreate): Promise<Port>;
  updatePort(ctx: Context, id: string, body: PortUpdate, options?: PortChangeOptions): Promise<Port>;
  deletePort(ctx: Context, id: string, options?: PortChangeOptions): Promise<void>;
}
