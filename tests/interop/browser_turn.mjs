// Headless Chromium (Debian's, driven by playwright-core; never a downloaded browser) gathering relay
// candidates with given TURN credentials: what a browser WIC does with the Solution 1 credential the
// eP-CSCF handed it (TS 33.203 X.5.2 steps 6-8). Launch flags as in turn_chromium_test.mjs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export async function launchChromium(extraArgs = []) {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-')), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--allow-loopback-in-peer-connection', ...extraArgs],
  });
}

// Runs in the page: one RTCPeerConnection, relay only, until gathering completes (bounded).
async function gather({ iceServers, waitMs }) {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const candidates = [];
  const errors = [];
  pc.onicecandidate = (e) => {
    if (e.candidate) candidates.push({ type: e.candidate.type, address: e.candidate.address, port: e.candidate.port,
                                       protocol: e.candidate.protocol, relayProtocol: e.candidate.relayProtocol, url: e.candidate.url });
  };
  pc.onicecandidateerror = (e) => errors.push({ url: e.url, errorCode: e.errorCode, errorText: e.errorText });
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    const t = setTimeout(resolve, waitMs);
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); } };
  });
  pc.close();
  return { candidates, errors };
}

// { candidates: [{type, address, port, relayProtocol, url}], errors: [{url, errorCode, errorText}] }
export async function gatherRelayCandidates(page, iceServers, waitMs = 10000) {
  return page.evaluate(gather, { iceServers, waitMs });
}
