import type { CniContext } from './context.js';
import { CniCode, CniError } from './errors.js';
import { attachmentKey } from './ipam-state.js';
import { hostVethName } from './names.js';
import type { WeftNetConf } from './netconf.js';

/**
 * GC: releases every allocation not listed in `cni.dev/valid-attachments` and
 * deletes every Weft host veth that belongs to no valid attachment. Attachments
 * with a request in flight are left alone.
 */
export async function cmdGc(ctx: CniContext, conf: WeftNetConf): Promise<undefined> {
  const valid = conf.validAttachments;
  if (!valid)
    throw new CniError(
      CniCode.invalidConfig,
      'invalid network config',
      'cni.dev/valid-attachments: required for GC',
    );
  const ipam = await ctx.ipams.get(conf.name);
  const busy = ctx.locks.busy();
  const released = await ipam.releaseExcept(
    new Set(valid.map(attachmentKey)),
    new Set(busy.map(attachmentKey)),
  );
  const keepVeths = new Set([...valid, ...busy].map(hostVethName));
  let deleted = 0;
  for (const name of await ctx.plumbing.listHostVeths()) {
    if (keepVeths.has(name)) continue;
    if (await ctx.plumbing.deleteHostVeth(name)) deleted++;
  }
  ctx.log.info({ op: 'gc', released: released.length, deleted }, 'garbage collected');
  return undefined;
}
