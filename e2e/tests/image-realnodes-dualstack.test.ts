/**
 * Weft on a dual-stack real-node cluster (e2e/tests/fixtures/realnode-family.ts): every pod
 * has an address of each family and the connectivity checks run over both (IPv4 and IPv6
 * ClusterIP of a PreferDualStack Service, A and AAAA records, NodePort and hostPort at both
 * node addresses, egress masqueraded to the node's address of the family).
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then.
 */
import { describeRealNodeFamily } from './fixtures/realnode-family.js';

describeRealNodeFamily('dual', 'rnds', 8092);
