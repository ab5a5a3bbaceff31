// What a browser needs for a meeting; a clear sentence when something is missing.

export function missingCapability(win: Window & typeof globalThis = window): string | null {
  if (!win.isSecureContext) {
    return 'Camera and microphone only work on a secure connection. Open this meeting with https:// in the address.';
  }
  if (typeof win.RTCPeerConnection !== 'function') {
    return 'This browser cannot take part in video meetings (it lacks WebRTC). Please use a current Firefox, Chrome, Edge or Safari.';
  }
  if (typeof win.navigator.mediaDevices?.getUserMedia !== 'function') {
    return 'This browser does not let web pages use a camera or microphone. Please use a current Firefox, Chrome, Edge or Safari.';
  }
  if (typeof win.WebSocket !== 'function') {
    return 'This browser lacks WebSockets, which meetings need. Please use a current browser.';
  }
  return null;
}
