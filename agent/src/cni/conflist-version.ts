import { WeftError } from '../../../common/errors.js';
import { type CniVersion, compareVersions, SUPPORTED_CNI_VERSIONS } from './versions.js';

/**
 * The newest version every runtime built on libcni 1.x can run. libcni before 1.2
 * (containerd 1.7, older CRI-O) has no result type for 1.1.0, so a 1.1.0 conflist
 * fails every ADD there, and it ignores `cniVersions`; libcni ≥ 1.2 (containerd 2.x)
 * picks the newest version it knows from `cniVersion` and `cniVersions` together
 * (spec 1.1.0, "Version considerations") and only then sends STATUS and GC.
 */
export const BASELINE_CNI_VERSION: CniVersion = '1.0.0';

/** The version fields of the conflist. */
export interface ConflistVersions {
  readonly cniVersion: CniVersion;
  /** Every version Weft and portmap both speak, oldest first; undefined when it adds nothing above cniVersion. */
  readonly cniVersions: readonly CniVersion[] | undefined;
}

/**
 * Pure: the conflist's versions from what the chained plugin (portmap) supports.
 * `cniVersion` is the newest common version up to BASELINE_CNI_VERSION (older
 * runtimes read only this field); when portmap also speaks newer ones (1.1.0),
 * `cniVersions` lists all common versions so that newer runtimes select the
 * newest. Throws when Weft and the plugin have no version in common.
 */
export function chooseConflistVersions(pluginVersions: readonly string[]): ConflistVersions {
  const common = SUPPORTED_CNI_VERSIONS.filter((v) => pluginVersions.includes(v)).sort(compareVersions);
  const newest = common.at(-1);
  if (newest === undefined)
    throw new WeftError(
      'ENOCOMMONVERSION',
      `portmap supports CNI ${pluginVersions.join(', ') || 'nothing'}, Weft ${SUPPORTED_CNI_VERSIONS.join(', ')}: no version in common`,
    );
  const baseline = common.filter((v) => compareVersions(v, BASELINE_CNI_VERSION) <= 0).at(-1) ?? newest;
  return { cniVersion: baseline, cniVersions: newest === baseline ? undefined : common };
}
