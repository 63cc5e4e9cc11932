import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIperfJson, parseSockperf } from './traffic.js';

const ESC = String.fromCharCode(27);

describe('traffic output parsers', () => {
  it('iperf3 TCP: receiver throughput in Gbit/s', () => {
    const text = JSON.stringify({
      end: { sum_received: { bits_per_second: 6.5e9, seconds: 5 }, sum_sent: {} },
    });
    assert.deepEqual(parseIperfJson(text, false), { gbps: 6.5 });
  });

  it('iperf3: where the client connected and its MSS, when reported', () => {
    const text = JSON.stringify({
      start: {
        connected: [{ socket: 5, local_host: 'fd00:10:244:1::10', remote_host: 'fd00:10:244:2::10' }],
        tcp_mss_default: 1390,
      },
      end: { sum_received: { bits_per_second: 4e9 } },
    });
    assert.deepEqual(parseIperfJson(text, false), {
      connected: [{ local: 'fd00:10:244:1::10', remote: 'fd00:10:244:2::10' }],
      mss: 1390,
      gbps: 4,
    });
  });

  it('iperf3 UDP: packets received per second net of losses', () => {
    const text = JSON.stringify({
      end: { sum: { bits_per_second: 1e9, packets: 60_000, lost_packets: 20_000, seconds: 2 } },
    });
    const r = parseIperfJson(text, true);
    assert.equal(r.pps, 20_000);
    assert.equal(r.lossRatio, 1 / 3);
  });

  it('iperf3: the tool error and missing fields are reported', () => {
    assert.throws(
      () => parseIperfJson(JSON.stringify({ error: 'unable to connect' }), false),
      /iperf3: unable to connect/,
    );
    assert.throws(() => parseIperfJson(JSON.stringify({ end: {} }), false), /sum_received/);
    assert.throws(() => parseIperfJson(JSON.stringify({ end: { sum: { seconds: 1 } } }), true), /packets/);
  });

  it('sockperf: p50/p99 and count, colour codes stripped', () => {
    const text = [
      `sockperf: ${ESC}[2;35mTotal 10829 observations${ESC}[0m; each percentile contains 108.29 observations`,
      'sockperf: ---> percentile 99.990 = 30875.800',
      'sockperf: ---> percentile 99.000 =  692.762',
      'sockperf: ---> percentile 50.000 =   18.674',
    ].join('\n');
    assert.deepEqual(parseSockperf(text), { p50Us: 18.674, p99Us: 692.762, observations: 10829 });
    assert.throws(() => parseSockperf('sockperf: Total 3 observations'), /percentile 50.000/);
  });
});
