// The parts of janode we use, typed. janode ships no types; this file is where they begin (and, like
// janode itself, it is only visible inside appliance/media/).
declare module 'janode' {
  import type { EventEmitter } from 'node:events';

  export interface JanodeConnection extends EventEmitter {
    create(kaIntervalSecs?: number): Promise<JanodeSession>;
    close(): Promise<void>;
  }
  export interface JanodeSession extends EventEmitter {
    attach<H>(plugin: { id: string; Handle: new (...args: never[]) => H }): Promise<H>;
    destroy(): Promise<void>;
  }
  interface Janode {
    connect(config: {
      address: { url: string; apisecret?: string } | { url: string; apisecret?: string }[];
      retry_time_secs?: number;
      max_retries?: number;
      ws_options?: Record<string, unknown>;
    }): Promise<JanodeConnection>;
    Logger: { setLevel(level: 'debug' | 'verb' | 'info' | 'warn' | 'error' | 'none'): string };
    EVENT: {
      CONNECTION_CLOSED: string;
      SESSION_DESTROYED: string;
      HANDLE_DETACHED: string;
      HANDLE_ICE_FAILED: string;
      HANDLE_HANGUP: string;
      HANDLE_MEDIA: string;
      HANDLE_WEBRTCUP: string;
      HANDLE_SLOWLINK: string;
      HANDLE_TRICKLE: string;
      CONNECTION_ERROR: string;
    };
  }
  const janode: Janode;
  export default janode;
}

declare module 'janode/plugins/videoroom' {
  import type { EventEmitter } from 'node:events';

  export interface Jsep {
    type: 'offer' | 'answer';
    sdp: string;
    e2ee?: boolean;
  }
  export interface JanusStream {
    type: 'audio' | 'video' | 'data';
    mid: string;
    mindex: number;
    feed_id?: number;
    feed_mid?: string;
    active?: boolean;
    [key: string]: unknown;
  }
  export interface VideoRoomHandle extends EventEmitter {
    id: number;
    create(p: Record<string, unknown>): Promise<{ room: number }>;
    destroy(p: { room: number; secret?: string; permanent?: boolean }): Promise<unknown>;
    exists(p: { room: number }): Promise<{ exists: boolean }>;
    joinConfigurePublisher(p: Record<string, unknown> & { jsep: Jsep }): Promise<{ feed: number; jsep?: Jsep; [k: string]: unknown }>;
    joinSubscriber(p: Record<string, unknown>): Promise<{ jsep?: Jsep; streams?: JanusStream[]; [k: string]: unknown }>;
    update(p: { subscribe?: Record<string, unknown>[]; unsubscribe?: Record<string, unknown>[] }): Promise<unknown>;
    start(p: { jsep: Jsep }): Promise<unknown>;
    configure(p: Record<string, unknown>): Promise<unknown>;
    kick(p: { room: number; feed: number; secret?: string }): Promise<unknown>;
    leave(): Promise<unknown>;
    trickle(candidate: unknown): Promise<unknown>;
    trickleComplete(): Promise<unknown>;
    message(body: Record<string, unknown>, jsep?: Jsep): Promise<unknown>;
    detach(): Promise<void>;
  }
  const plugin: {
    id: string;
    Handle: new (...args: never[]) => VideoRoomHandle;
    EVENT: Record<string, string>;
  };
  export default plugin;
}
