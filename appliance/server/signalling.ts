// Glue between a WebSocket and a meeting Session: text frames in, JSON out, close codes both ways.
import type { Context } from 'hono';
import type { WSEvents } from 'hono/ws';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { SessionContext } from '../meeting/lobby.js';
import type { Connection } from '../meeting/meeting.js';
import type { MeetingService, Session } from '../meeting/service.js';
import { CloseCode } from '../meeting/protocol.js';

export function signallingHandler(
  meetings: MeetingService,
  log: Logger,
  /** Who is on the other end (address for limits, signed-in account), read from the upgrade request. */
  contextOf?: (c: Context) => SessionContext,
): (c: Context) => WSEvents<WebSocket> {
  return (c) => {
    const context = contextOf?.(c);
    let session: Session | null = null;
    const host = c.req.header('host');
    return {
      onOpen(_evt, ws) {
        const connection: Connection = {
          send(message) {
            if (ws.readyState === 1) ws.send(JSON.stringify(message));
          },
          close(code, reason) {
            ws.close(code, reason);
          },
          host,
        };
        session = meetings.connect(connection, context);
      },
      onMessage(evt, ws) {
        if (typeof evt.data !== 'string') {
          ws.close(CloseCode.abuse, 'binary frames are not part of the protocol');
          return;
        }
        session?.receive(evt.data);
      },
      onClose() {
        session?.closed();
        session = null;
      },
      onError(evt) {
        log.debug('signalling socket error', { type: evt.type });
      },
    };
  };
}
