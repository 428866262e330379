/**
 * The fake's gateway, as the Gateway docs describe it: Hello on connect, Identify -> READY then one
 * GUILD_CREATE per guild, Heartbeat -> Heartbeat ACK, Resume -> the missed dispatches then RESUMED
 * (or Invalid Session), dispatches numbered by `s` and filtered by the session's intents. JSON encoding,
 * no compression (the client asks for none without zlib-sync).
 */
import type { Server } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { Intent, type Json, Op, snowflake, type UserObject } from './objects.ts';

/** Discord's usual interval; tests end long before a missed heartbeat would matter. */
const HEARTBEAT_INTERVAL_MS = 41250;
/** Close code "Authentication failed" (Opcodes and Status Codes, Gateway Close Event Codes). */
const AUTHENTICATION_FAILED = 4004;

interface Session {
  id: string;
  intents: number;
  seq: number;
  /** Every dispatch of the session, for replay on Resume. */
  sent: Json[];
  socket: WebSocket | null;
}

export interface GatewayOptions {
  token: string;
  user: UserObject;
  applicationId: string;
  /** The GUILD_CREATE payloads sent after READY. */
  guilds: () => Json[];
}

export class FakeGateway {
  readonly #options: GatewayOptions;
  readonly #server: WebSocketServer;
  readonly #sessions = new Map<string, Session>();
  #url = '';
  /** Every payload clients sent (op and d), in order. */
  readonly received: { op: number; d: unknown }[] = [];

  constructor(http: Server, options: GatewayOptions) {
    this.#options = options;
    this.#server = new WebSocketServer({ server: http });
    this.#server.on('connection', (socket) => this.#open(socket));
  }

  /** The URL GET /gateway/bot hands out, and READY's `resume_gateway_url`. */
  get url(): string {
    return this.#url;
  }

  set url(url: string) {
    this.#url = url;
  }

  /** The intents of the last Identify, or null before one. */
  get intents(): number | null {
    return [...this.#sessions.values()].at(-1)?.intents ?? null;
  }

  /**
   * Sends a dispatch to every identified session whose intents allow it (`intent` 0: always);
   * sessions without the Message Content intent get `withoutContent` when given.
   */
  dispatch(event: string, data: Json, intent: number, withoutContent?: Json): void {
    for (const session of this.#sessions.values()) {
      if (intent !== 0 && (session.intents & intent) === 0) continue;
      const hasContent = (session.intents & Intent.MessageContent) !== 0;
      this.#send(session, event, hasContent || !withoutContent ? data : withoutContent);
    }
  }

  /** Drops every connection as a network failure would (close code 4000 lets clients resume). */
  dropConnections(): void {
    for (const session of this.#sessions.values()) {
      session.socket?.close(4000, 'Unknown error');
      session.socket = null;
    }
  }

  /** Whether a client holds an identified connection. */
  get connected(): boolean {
    return [...this.#sessions.values()].some((session) => session.socket !== null);
  }

  close(): void {
    for (const client of this.#server.clients) client.terminate();
    this.#server.close();
  }

  #open(socket: WebSocket): void {
    socket.send(
      JSON.stringify({ op: Op.Hello, d: { heartbeat_interval: HEARTBEAT_INTERVAL_MS }, s: null, t: null }),
    );
    let session: Session | null = null;
    socket.on('message', (raw) => {
      const payload = JSON.parse(raw.toString()) as { op: number; d: unknown };
      this.received.push(payload);
      if (payload.op === Op.Heartbeat) {
        socket.send(JSON.stringify({ op: Op.HeartbeatAck, d: null, s: null, t: null }));
      } else if (payload.op === Op.Identify) {
        session = this.#identify(socket, payload.d as { token: string; intents: number });
      } else if (payload.op === Op.Resume) {
        session = this.#resume(socket, payload.d as { token: string; session_id: string; seq: number });
      }
    });
    socket.on('close', () => {
      if (session && session.socket === socket) session.socket = null;
    });
  }

  #identify(socket: WebSocket, identify: { token: string; intents: number }): Session | null {
    if (identify.token !== this.#options.token) {
      socket.close(AUTHENTICATION_FAILED, 'Authentication failed.');
      return null;
    }
    const session: Session = { id: snowflake(), intents: identify.intents, seq: 0, sent: [], socket };
    this.#sessions.set(session.id, session);
    const guilds = this.#options.guilds();
    this.#send(session, 'READY', {
      v: 10,
      user: this.#options.user,
      guilds: guilds.map((guild) => ({ id: guild.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.#url,
      shard: [0, 1],
      application: { id: this.#options.applicationId, flags: 0 },
    });
    for (const guild of guilds) this.#send(session, 'GUILD_CREATE', guild);
    return session;
  }

  #resume(socket: WebSocket, resume: { token: string; session_id: string; seq: number }): Session | null {
    const session = this.#sessions.get(resume.session_id);
    if (!session || resume.token !== this.#options.token) {
      socket.send(JSON.stringify({ op: Op.InvalidSession, d: false, s: null, t: null }));
      return null;
    }
    session.socket = socket;
    for (const payload of session.sent) {
      if ((payload.s as number) > resume.seq) socket.send(JSON.stringify(payload));
    }
    this.#send(session, 'RESUMED', {});
    return session;
  }

  #send(session: Session, event: string, data: Json): void {
    session.seq += 1;
    const payload = { op: Op.Dispatch, d: data, s: session.seq, t: event };
    session.sent.push(payload);
    session.socket?.send(JSON.stringify(payload));
  }
}
