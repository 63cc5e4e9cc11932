export { insecureGossipKey, loadGossipKey } from './key.js';
export type { PeerState } from './liveness.js';
export { MemoryNetwork } from './memory-transport.js';
export { GossipMesh } from './mesh.js';
export type { GossipMeshOptions, GossipTiming, MeshView, PeerView, SelfReport } from './options.js';
export { DEFAULT_TIMING } from './options.js';
export type { NodeRecord } from './record.js';
export type { GossipTransport, PeerAddress } from './transport.js';
