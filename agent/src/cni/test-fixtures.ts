import type { WeftNetConf } from './netconf.js';

/** A parsed network config for the CNI commands' tests: spec 1.1.0, no prevResult. */
export function testNetConf(validAttachments?: WeftNetConf['validAttachments']): WeftNetConf {
  return {
    cniVersion: '1.1.0',
    name: 'weft',
    type: 'weft',
    socket: undefined,
    prevResult: undefined,
    validAttachments,
  };
}
