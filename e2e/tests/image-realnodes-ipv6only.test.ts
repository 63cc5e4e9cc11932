/**
 * Weft on an IPv6-only real-node cluster (e2e/tests/fixtures/realnode-family.ts): no IPv4 in
 * the cluster — Nodes with one IPv6 InternalIP and podCIDR, IPv6 Service CIDR, kubelet and
 * kube-proxy on IPv6, CoreDNS on an IPv6 ClusterIP, Weft from the chart with one IPv6 cluster
 * CIDR (VXLAN over IPv6 to the node on the other subnet); the connectivity checks over IPv6.
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then.
 */
import { describeRealNodeFamily } from './fixtures/realnode-family.js';

describeRealNodeFamily('ipv6', 'rn6o', 8094);
