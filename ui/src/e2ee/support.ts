// Can this browser do end-to-end encryption? A clear sentence naming what is missing, or null. Without
// E2EE the browser is refused: never a silent downgrade.

export type TransformPath = 'script-transform' | 'encoded-streams';

export function transformPath(win: typeof globalThis = globalThis): TransformPath | null {
  if (typeof (win as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform === 'function') return 'script-transform';
  const proto = (win as { RTCRtpSender?: { prototype: object } }).RTCRtpSender?.prototype;
  if (proto && 'createEncodedStreams' in proto) return 'encoded-streams';
  return null;
}

export async function missingE2eeCapability(win: typeof globalThis = globalThis): Promise<string | null> {
  const lacks = (what: string) =>
    `This browser cannot join end-to-end encrypted meetings: it lacks ${what}. Please use a current Firefox, Chrome, Edge or Safari.`;
  if (!win.crypto?.subtle) return lacks('the Web Crypto API');
  if (typeof win.Worker !== 'function') return lacks('Web Workers');
  if (!transformPath(win)) return lacks('encoded transforms for WebRTC (RTCRtpScriptTransform)');
  try {
    await win.crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
  } catch {
    return lacks('X25519 key agreement in Web Crypto');
  }
  return null;
}
