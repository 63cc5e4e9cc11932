import { errorMessage } from '../../../common/errors.js';
import type { CniContext } from './context.js';
import { CniCode, CniError } from './errors.js';
import { attachmentKey } from './ipam-state.js';
import { hostVethName } from './names.js';
import type { WeftNetConf } from './netconf.js';

/**
 * GC: releases every allocation not listed in `cni.dev/valid-attachments` and
 * deletes every Weft host veth that belongs to no valid attachment. Attachments
 * with a request in flight are left alone. As the spec asks, a failure does not
 * stop the rest: everything that can go goes, then the failures are reported (5).
 */
export async function cmdGc(ctx: CniContext, conf: WeftNetConf): Promise<undefined> {
  const valid = conf.validAttachments;
  if (!valid)
    throw new CniError(
      CniCode.invalidConfig,
      'invalid network config',
      'cni.dev/valid-attachments: required for GC',
    );
  const failures: string[] = [];
  const busy = ctx.locks.busy();
  let released = 0;
  try {
    const ipam = await ctx.ipams.get(conf.name);
    const gone = await ipam.releaseExcept(
      new Set(valid.map(attachmentKey)),
      new Set(busy.map(attachmentKey)),
    );
    for (const a of gone) ctx.podGate.forget(attachmentKey(a));
    released = gone.length;
  } catch (err) {
    failures.push(`releasing addresses: ${errorMessage(err)}`);
  }
  const keepVeths = new Set([...valid, ...busy].map(hostVethName));
  let deleted = 0;
  try {
    for (const name of await ctx.plumbing.listHostVeths()) {
      if (keepVeths.has(name)) continue;
      await ctx.plumbing.deleteHostVeth(name).then(
        (gone) => {
          if (gone) deleted++;
        },
        (err: unknown) => failures.push(`deleting ${name}: ${errorMessage(err)}`),
      );
    }
  } catch (err) {
    failures.push(`listing host veths: ${errorMessage(err)}`);
  }
  ctx.log.info({ op: 'gc', released, deleted, failures: failures.length }, 'garbage collected');
  if (failures.length > 0)
    throw new CniError(CniCode.ioFailure, 'garbage collection incomplete', failures.join('; '));
  return undefined;
}
