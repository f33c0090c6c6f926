// What the status panel (and the end-to-end test) reads from RTCPeerConnection.getStats() (W3C
// webrtc-stats): the selected candidate pair (is the media relayed through TURN?) and the audio bytes
// sent and received. Takes the RTCStatsReport (a Map-like with forEach/get), so Node's test runner
// checks it with a plain Map: web/test/media_stats.test.mjs.

export function summarizeStats(report) {
  const all = [];
  report.forEach((s) => all.push(s));
  const byId = (id) => (id ? (typeof report.get === 'function' ? report.get(id) : all.find((s) => s.id === id)) : undefined);
  let pair;
  // The transport names its selected pair; older Chromium marks the pair itself.
  for (const s of all) if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId(s.selectedCandidatePairId);
  if (!pair) pair = all.find((s) => s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded')));
  const local = pair && byId(pair.localCandidateId);
  const remote = pair && byId(pair.remoteCandidateId);
  const sum = (type, kind, field) => all.filter((s) => s.type === type && (s.kind || s.mediaType) === kind)
    .reduce((n, s) => n + (Number(s[field]) || 0), 0);
  return {
    pair: pair ? {
      state: pair.state,
      localType: local?.candidateType || '',
      remoteType: remote?.candidateType || '',
      relayProtocol: local?.relayProtocol || '',
      protocol: local?.protocol || '',
      bytesSent: Number(pair.bytesSent) || 0,
      bytesReceived: Number(pair.bytesReceived) || 0,
    } : null,
    audio: { bytesSent: sum('outbound-rtp', 'audio', 'bytesSent'), bytesReceived: sum('inbound-rtp', 'audio', 'bytesReceived') },
    video: { bytesSent: sum('outbound-rtp', 'video', 'bytesSent'), bytesReceived: sum('inbound-rtp', 'video', 'bytesReceived') },
  };
}

// "yes (TURN over UDP)" / "no (host)" / "not yet": the panel's "media relayed" line.
export function relayedText(summary) {
  const p = summary?.pair;
  if (!p || !p.localType) return { relayed: null, text: 'not yet' };
  if (p.localType === 'relay') {
    const via = p.relayProtocol ? `TURN over ${p.relayProtocol.toUpperCase()}` : 'TURN';
    // (The peer's side may show as "prflx": its other relay allocation, learnt from its checks.)
    return { relayed: true, text: `yes (${via})` };
  }
  return { relayed: false, text: `no (${p.localType} to ${p.remoteType || '?'})` };
}
