/**
 * kube-proxy's configuration for a node (pure): nftables mode, and no machine-wide conntrack
 * settings: the table size (`maxPerCore`, `min`; nf_conntrack_max is global, and only the
 * root namespace may write it) stays 0 = leave the kernel's value alone. The TCP timeouts are
 * per network namespace (net.netfilter.nf_conntrack_tcp_timeout_*), so kube-proxy sets its
 * defaults in the node's namespace as on a real node: established 24 h, CLOSE_WAIT 1 h
 * (upstream's KubeProxy "should set TCP CLOSE_WAIT timeout" checks the latter).
 */
export function renderKubeProxyConfig(opts: {
  kubeconfig: string;
  nodeName: string;
  nodeIp: string;
  clusterCidr: string;
}): string {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: opts.kubeconfig },
    hostnameOverride: opts.nodeName,
    bindAddress: opts.nodeIp,
    clusterCIDR: opts.clusterCidr,
    // Every address of the node's own namespace, as upstream's default: the e2e suite asks
    // http://localhost:10256/healthz from a hostNetwork pod, load balancers the node IP.
    healthzBindAddress: '0.0.0.0:10256',
    metricsBindAddress: '127.0.0.1:10249',
    nodePortAddresses: ['primary'],
    oomScoreAdj: 0, // a negative value needs CAP_SYS_RESOURCE, which root lacks here
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '24h0m0s',
      tcpCloseWaitTimeout: '1h0m0s',
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
