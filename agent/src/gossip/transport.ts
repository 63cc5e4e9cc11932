/**
 * The seam between the gossip mesh and the network. A transport moves opaque
 * text frames; authentication and meaning live above it.
 */

/** One end of a connection a frame arrived on; replies go back the same way. */
export interface ReplyChannel {
  /** Queues a frame; false when it was dropped (closed or slow peer). */
  send(data: string): boolean;
  /**
   * Tells the transport which peer is at the other end (after the frame that
   * arrived here was authenticated), so that frames to that peer may reuse
   * this connection instead of dialling a second one.
   */
  bind?(peerName: string): void;
}

export interface TransportHandlers {
  onMessage(data: Buffer, from: ReplyChannel): void;
  /** A frame the transport itself refused (too large, undecodable at the socket level). */
  onReject(reason: 'oversized' | 'malformed'): void;
}

export interface PeerAddress {
  readonly name: string;
  /** "host:port". */
  readonly address: string;
}

export interface GossipTransport {
  /** Starts listening; resolves with the bound port. */
  start(handlers: TransportHandlers): Promise<{ port: number }>;
  /** Queues a frame to a peer, connecting if needed; false when dropped. */
  send(peer: PeerAddress, data: string): boolean;
  /** Frames waiting in send queues, all peers together (for a graceful leave). */
  pending(): number;
  close(): Promise<void>;
}
