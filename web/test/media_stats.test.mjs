// getStats() summaries: the selected pair's candidate types and the audio bytes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { relayedText, summarizeStats } from '../src/media_stats.js';

const report = (list) => new Map(list.map((s) => [s.id, s]));

test('relayed call: transport names the selected pair', () => {
  const s = summarizeStats(report([
    { id: 'T1', type: 'transport', selectedCandidatePairId: 'P2' },
    { id: 'P1', type: 'candidate-pair', localCandidateId: 'L0', remoteCandidateId: 'R0', state: 'failed', bytesSent: 0 },
    { id: 'P2', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', state: 'succeeded', nominated: true, bytesSent: 900, bytesReceived: 800 },
    { id: 'L0', type: 'local-candidate', candidateType: 'host' },
    { id: 'L1', type: 'local-candidate', candidateType: 'relay', relayProtocol: 'udp', protocol: 'udp' },
    { id: 'R1', type: 'remote-candidate', candidateType: 'relay' },
    { id: 'O1', type: 'outbound-rtp', kind: 'audio', bytesSent: 500 },
    { id: 'I1', type: 'inbound-rtp', kind: 'audio', bytesReceived: 400 },
    { id: 'O2', type: 'outbound-rtp', kind: 'video', bytesSent: 7000 },
  ]));
  assert.deepEqual(s.pair, { state: 'succeeded', localType: 'relay', remoteType: 'relay', relayProtocol: 'udp', protocol: 'udp', bytesSent: 900, bytesReceived: 800 });
  assert.deepEqual(s.audio, { bytesSent: 500, bytesReceived: 400 });
  assert.deepEqual(s.video, { bytesSent: 7000, bytesReceived: 0 });
  assert.deepEqual(relayedText(s), { relayed: true, text: 'yes (TURN over UDP)' });
});

test('older reports: the nominated succeeded pair', () => {
  const s = summarizeStats(report([
    { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded', nominated: true },
    { id: 'L', type: 'local-candidate', candidateType: 'host' },
    { id: 'R', type: 'remote-candidate', candidateType: 'srflx' },
  ]));
  assert.equal(s.pair.localType, 'host');
  assert.deepEqual(relayedText(s), { relayed: false, text: 'no (host to srflx)' });
});

test('no pair yet', () => {
  const s = summarizeStats(new Map());
  assert.equal(s.pair, null);
  assert.deepEqual(relayedText(s), { relayed: null, text: 'not yet' });
  assert.deepEqual(s.audio, { bytesSent: 0, bytesReceived: 0 });
});
