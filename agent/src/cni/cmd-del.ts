import type { CniContext } from './context.js';
import { attachmentKey } from './ipam-state.js';
import { hostVethName } from './names.js';
import type { Attachment, WeftNetConf } from './netconf.js';

/**
 * DEL: removes the host veth (the pair goes with it) and releases the address.
 * Idempotent; needs neither the pod's netns nor a ready pod network.
 */
export async function cmdDel(ctx: CniContext, conf: WeftNetConf, a: Attachment): Promise<undefined> {
  const ipam = await ctx.ipams.get(conf.name);
  await ctx.locks.run(a, async () => {
    await ctx.plumbing.deleteHostVeth(hostVethName(a));
    await ipam.release(a);
    ctx.podGate.forget(attachmentKey(a));
  });
  return undefined;
}
