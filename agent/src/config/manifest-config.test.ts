import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseControllerNetConf } from '../../../controller/src/net-conf.js';
import { parseNetConf } from './net-conf.js';

/** The net-conf.json block of manifests/03-config.yaml (a YAML literal block). */
function manifestNetConf(): string {
  const yaml = readFileSync(new URL('../../../../manifests/03-config.yaml', import.meta.url), 'utf8');
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => /^\s+net-conf\.json: \|\s*$/.test(l));
  assert.ok(start >= 0, 'net-conf.json block not found in manifests/03-config.yaml');
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && !line.startsWith('    ')) break;
    body.push(line.slice(4));
  }
  return body.join('\n');
}

describe('the shipped ConfigMap', () => {
  it('is accepted by the agent and the controller alike', () => {
    const text = manifestNetConf();
    const agent = parseNetConf(text);
    assert.deepEqual(agent.clusterCIDRs, ['10.244.0.0/16']);
    assert.equal(agent.backend, 'auto');
    assert.equal(agent.encryption, 'none', 'WireGuard only when the chart enables it');
    const controller = parseControllerNetConf(text);
    assert.equal(controller.nodeCidrMaskSize, 24);
  });
  it('rejects a bad nodeCIDRMaskSize in the agent too, naming the field', () => {
    assert.throws(() => parseNetConf('{"network":"10.0.0.0/8","nodeCIDRMaskSize":"24"}'), /nodeCIDRMaskSize/);
  });
});
