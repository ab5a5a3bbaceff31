// A browser without what E2EE needs is refused with a sentence naming what is missing.
import { describe, expect, it } from 'vitest';
import { missingE2eeCapability, transformPath } from './support.js';

function fakeWindow(over: Record<string, unknown>): typeof globalThis {
  return { crypto: globalThis.crypto, Worker: function Worker() {}, RTCRtpScriptTransform: function T() {}, ...over } as unknown as typeof globalThis;
}

describe('E2EE capability check', () => {
  it('accepts a browser with encoded transforms, workers and X25519', async () => {
    expect(await missingE2eeCapability(fakeWindow({}))).toBeNull();
    expect(transformPath(fakeWindow({}))).toBe('script-transform');
  });

  it('falls back to Chromium\'s encoded streams when there is no RTCRtpScriptTransform', () => {
    const sender = function RTCRtpSender() {};
    sender.prototype.createEncodedStreams = () => undefined;
    expect(transformPath(fakeWindow({ RTCRtpScriptTransform: undefined, RTCRtpSender: sender }))).toBe('encoded-streams');
  });

  it.each([
    ['encoded transforms', { RTCRtpScriptTransform: undefined }],
    ['Web Workers', { Worker: undefined }],
    ['the Web Crypto API', { crypto: {} }],
    ['X25519', { crypto: { subtle: { generateKey: () => Promise.reject(new Error('NotSupportedError')) } } }],
  ])('names what is missing: %s', async (what, over) => {
    const msg = await missingE2eeCapability(fakeWindow(over));
    expect(msg).toContain(what);
    expect(msg).toMatch(/cannot join end-to-end encrypted meetings/);
  });
});
