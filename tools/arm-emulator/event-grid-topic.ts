import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './directory';
import { EVENT_GRID_AUDIENCE, type TokenAuthority } from './tokens';

export interface ReceivedCloudEvent {
  event: Record<string, unknown>;
  principalId: string;
  at: number;
}

const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;

function reply(res: ServerResponse, status: number, code?: string, message?: string): void {
  res.writeHead(status, code ? { 'content-type': 'application/json' } : {});
  res.end(code ? JSON.stringify({ error: { code, message } }) : '');
}

/**
 * A custom Event Grid topic (`POST /api/events`) in the CloudEvents 1.0 input schema: a bearer token
 * for https://eventgrid.azure.net, `application/cloudevents-batch+json`, and well-formed events only.
 * Everything it accepts is recorded for tests to read.
 */
export class EventGridTopic {
  readonly received: ReceivedCloudEvent[] = [];
  /** Data-plane authorization: principals allowed to send (EventGrid Data Sender). Empty: anyone authenticated. */
  readonly senders = new Set<string>();
  /** Set to make the topic refuse every publish with this status (an outage, for tests). */
  refuseWith?: number;

  constructor(private readonly tokens: TokenAuthority) {}

  handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    if (req.method !== 'POST') return reply(res, 405, 'MethodNotAllowed', 'Only POST is supported.');
    if (this.refuseWith) return reply(res, this.refuseWith, 'Unavailable', 'The topic is refusing events (injected).');
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const verdict = m ? this.tokens.verify(m[1]!, EVENT_GRID_AUDIENCE) : { reason: 'The Authorization header is missing.' };
    if ('reason' in verdict) return reply(res, 401, 'Unauthorized', verdict.reason);
    const principal: Principal = verdict.principal;
    if (this.senders.size > 0 && !this.senders.has(principal.id))
      return reply(res, 403, 'Forbidden', 'The principal may not send events to this topic.');
    if (!/^application\/cloudevents-batch\+json/i.test(String(req.headers['content-type'] ?? ''))) {
      return reply(res, 400, 'BadRequest', "Content-Type must be 'application/cloudevents-batch+json' for the CloudEvents schema.");
    }
    let events: unknown;
    try {
      events = JSON.parse(raw);
    } catch {
      return reply(res, 400, 'BadRequest', 'The request body is not valid JSON.');
    }
    if (!Array.isArray(events) || events.length === 0)
      return reply(res, 400, 'BadRequest', 'The request body must be a non-empty array of CloudEvents.');
    for (const [i, e] of events.entries()) {
      if (typeof e !== 'object' || e === null) return reply(res, 400, 'BadRequest', `Event ${i} is not an object.`);
      for (const key of REQUIRED) {
        if (typeof (e as Record<string, unknown>)[key] !== 'string' || (e as Record<string, string>)[key] === '') {
          return reply(res, 400, 'BadRequest', `Event ${i}: required attribute '${key}' is missing or empty.`);
        }
      }
      if ((e as Record<string, string>).specversion !== '1.0')
        return reply(res, 400, 'BadRequest', `Event ${i}: specversion must be '1.0'.`);
    }
    const at = Date.now();
    for (const e of events) this.received.push({ event: e as Record<string, unknown>, principalId: principal.id, at });
    reply(res, 200);
  }
}
