import { Ipam } from './ipam.js';

/** One Ipam per network name, loaded from disk on first use (a failed load is retried next time). */
export class IpamSet {
  private readonly loading = new Map<string, Promise<Ipam>>();
  private readonly ready = new Map<string, Ipam>();

  constructor(private readonly stateDir: string) {}

  get(network: string): Promise<Ipam> {
    let p = this.loading.get(network);
    if (!p) {
      p = Ipam.open(this.stateDir, network).then(
        (ipam) => {
          this.ready.set(network, ipam);
          return ipam;
        },
        (err: unknown) => {
          this.loading.delete(network);
          throw err;
        },
      );
      this.loading.set(network, p);
    }
    return p;
  }

  loaded(): Ipam[] {
    return [...this.ready.values()];
  }
}
