// Node 20 has no global ErrorEvent (Node 22 and the image's Node 24 do); the WebSocket helper creates
// one when a socket errors, e.g. on a frame over the size limit. Without this the process would crash.
if (typeof (globalThis as { ErrorEvent?: unknown }).ErrorEvent === 'undefined') {
  class ErrorEventShim extends Event {
    readonly error: unknown;
    readonly message: string;
    constructor(type: string, init?: { error?: unknown; message?: string }) {
      super(type);
      this.error = init?.error;
      this.message = init?.message ?? '';
    }
  }
  (globalThis as { ErrorEvent?: unknown }).ErrorEvent = ErrorEventShim;
}
export {};
