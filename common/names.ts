/** Kubernetes object names shared by the agent and weft-controller (DESIGN.md, "Names"). */

/** The namespace `manifests/` installs into; both processes read their own from POD_NAMESPACE. */
export const DEFAULT_NAMESPACE = 'weft-system';

/** The Secret holding the cluster gossip key: weft-controller creates it, the agent mounts it. */
export const GOSSIP_KEY_SECRET = 'weft-gossip-key';

/** A Kubernetes namespace name (RFC 1123 label). */
export const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
