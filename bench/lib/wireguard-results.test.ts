import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backendOrder,
  captureProblems,
  counterDelta,
  emptyWgSamples,
  parseWireguardArgs,
  summarizeWgSamples,
  WG_METRICS,
} from './wireguard-results.js';

describe('WireGuard benchmark results', () => {
  it('alternates which backend a repetition measures first', () => {
    assert.deepEqual(backendOrder(0), ['vxlan', 'wireguard']);
    assert.deepEqual(backendOrder(1), ['wireguard', 'vxlan']);
    assert.deepEqual(backendOrder(2), ['vxlan', 'wireguard']);
  });

  it('takes ratios and added µs per repetition, then the median', () => {
    const s = emptyWgSamples();
    for (const m of WG_METRICS) {
      s.vxlan[m].push(10, 20, 40);
      s.wireguard[m].push(5, 5, 40);
    }
    const r = summarizeWgSamples(s);
    assert.deepEqual(r.wireguardOverVxlan.tcp1Gbps, { median: 0.5, min: 0.25, max: 1, n: 3 });
    assert.deepEqual(r.addedUs.rttP50Us, { median: -5, min: -15, max: 0, n: 3 });
    assert.equal(r.backends.wireguard.connectP99Us.median, 5);
    assert.ok(!('tcp1Gbps' in r.addedUs));
  });

  it('judges a capture: encrypted needs no pod in clear, enough tunnel packets, nothing else', () => {
    const good = { betweenNodes: 500, classes: { 'udp 51820': 490, 'tcp 9743': 10 }, podInClear: 0 };
    assert.deepEqual(captureProblems(good, true, 400), []);
    assert.deepEqual(captureProblems({ ...good, podInClear: 3 }, true, 400), [
      '3 packets show a pod address in clear',
    ]);
    assert.deepEqual(captureProblems(good, true, 1000), ['490 WireGuard packets, want at least 1000']);
    assert.deepEqual(captureProblems({ ...good, classes: { ...good.classes, 'udp 8472': 7 } }, true, 1), [
      '7 packets of udp 8472 between the nodes',
    ]);
    // The control: a VXLAN capture must show the pods, else the check is blind.
    assert.deepEqual(captureProblems({ ...good, podInClear: 9 }, false, 1), []);
    assert.match(captureProblems(good, false, 1)[0] ?? '', /the check sees nothing/);
  });

  it('quick mode: one short repetition; full: 10', () => {
    assert.deepEqual(
      (({ reps, seconds, connections }) => ({ reps, seconds, connections }))(parseWireguardArgs(['--quick'])),
      { reps: 1, seconds: 1, connections: 30 },
    );
    assert.equal(parseWireguardArgs([]).reps, 10);
    const c = { deviceTx: 1, deviceRx: 2, underlayTx: 3, underlayRx: 4 };
    assert.deepEqual(counterDelta(c, { deviceTx: 11, deviceRx: 12, underlayTx: 13, underlayRx: 14 }), {
      deviceTx: 10,
      deviceRx: 10,
      underlayTx: 10,
      underlayRx: 10,
    });
  });
});
