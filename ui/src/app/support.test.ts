import { describe, expect, it } from 'vitest';
import { missingCapability } from './support.js';

function fakeWindow(parts: { secure?: boolean; pc?: boolean; gum?: boolean; ws?: boolean }): Window & typeof globalThis {
  const { secure = true, pc = true, gum = true, ws = true } = parts;
  return {
    isSecureContext: secure,
    RTCPeerConnection: pc ? function RTCPeerConnection() {} : undefined,
    WebSocket: ws ? function WebSocket() {} : undefined,
    navigator: { mediaDevices: gum ? { getUserMedia: () => undefined } : undefined },
  } as unknown as Window & typeof globalThis;
}

describe('missingCapability', () => {
  it('accepts a browser with everything', () => {
    expect(missingCapability(fakeWindow({}))).toBeNull();
  });
  it('explains each missing piece', () => {
    expect(missingCapability(fakeWindow({ secure: false }))).toMatch(/https/);
    expect(missingCapability(fakeWindow({ pc: false }))).toMatch(/WebRTC/);
    expect(missingCapability(fakeWindow({ gum: false }))).toMatch(/camera or microphone/);
    expect(missingCapability(fakeWindow({ ws: false }))).toMatch(/WebSockets/);
  });
});
