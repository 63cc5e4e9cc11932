/**
 * What the datapath side of the agent publishes about this node's pod network,
 * for the CNI server (IPAM ranges, bridge, MTU) and the status API.
 * `undefined` from the provider means "not ready yet" (no podCIDR, or the first
 * reconcile has not succeeded).
 */
export interface LocalNetwork {
  readonly nodeName: string;
  /** This node's podCIDRs in canonical form, IPv4 first ("10.244.1.0/24"). */
  readonly podCIDRs: readonly string[];
  /** The cluster CIDR(s) from net-conf. */
  readonly clusterCIDRs: readonly string[];
  /** The bridge pods attach to ("weft0"); its address is the first host of each podCIDR. */
  readonly bridge: string;
  /** MTU for pod interfaces (underlay MTU minus VXLAN overhead where VXLAN may be used). */
  readonly mtu: number;
}

export type LocalNetworkProvider = () => LocalNetwork | undefined;
