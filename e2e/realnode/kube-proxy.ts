/**
 * kube-proxy's configuration for a node (pure): nftables mode, and no machine-wide
 * conntrack settings (every conntrack field 0 = leave the kernel's values alone).
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
    healthzBindAddress: `${opts.nodeIp}:10256`,
    metricsBindAddress: '127.0.0.1:10249',
    nodePortAddresses: ['primary'],
    oomScoreAdj: 0, // a negative value needs CAP_SYS_RESOURCE, which root lacks here
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
