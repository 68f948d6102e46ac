/**
 * Job callbacks, signed as the Standard Webhooks specification says (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`; the `standardwebhooks`
 * package signs), delivered at least once:
 * - the message id is derived from the job and its final state, so every retry (and a re-delivery
 *   after a gateway restart) carries the same `webhook-id` and the receiver can deduplicate;
 * - a failed attempt (connection error, timeout, non-2xx, redirect) is retried with exponential
 *   backoff and full jitter, up to `max_attempts`; then the delivery is dead-lettered and the
 *   job shows it;
 * - every connection goes through the SSRF guard (callback-guard.ts).
 * @module
 */
import { Webhook } from 'standardwebhooks';
import type { Dispatcher } from 'undici';
import { checkCallbackUrl, type CallbackPolicy } from './callback-guard.ts';

export interface WebhookRetry {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
  timeoutMs: number;
}

export interface DeliveryState {
  state: 'pending' | 'delivered' | 'dead_lettered';
  attempts: number;
  last_error?: string | undefined;
  last_status?: number | undefined;
  /** Epoch ms of the next attempt while pending. */
  next_at?: number | undefined;
}

export interface WebhookMessage {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base·2^attempt)]. */
export function backoffMs(attempt: number, retry: Pick<WebhookRetry, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(retry.maxMs, retry.baseMs * 2 ** attempt));
}

export class WebhookSender {
  readonly #webhook: Webhook;

  /**
   * @param secret `whsec_…` (base64 after the prefix), as Standard Webhooks secrets are written.
   * @example
   * const sender = new WebhookSender(secret, policy, guardedAgent(policy), retry);
   * const outcome = await sender.attempt('https://example.com/hook', message, new Date());
   */
  constructor(
    secret: string,
    private readonly policy: CallbackPolicy,
    private readonly dispatcher: Dispatcher,
    private readonly retry: WebhookRetry,
  ) {
    this.#webhook = new Webhook(secret);
  }

  /** The body and headers of one delivery; the same message always gets the same id. */
  sign(message: WebhookMessage, at: Date): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify({ type: message.type, timestamp: at.toISOString(), data: message.payload });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': message.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.#webhook.sign(message.id, at, body),
      },
    };
  }

  /** One attempt; resolves with the next delivery state, never rejects. */
  async attempt(url: string, message: WebhookMessage, previous: DeliveryState, now: Date): Promise<DeliveryState> {
    const attempts = previous.attempts + 1;
    let failure: { error: string; status?: number };
    try {
      const target = checkCallbackUrl(url, this.policy);
      const { body, headers } = this.sign(message, now);
      const res = await this.dispatcher.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.retry.timeoutMs),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return { state: 'delivered', attempts, last_status: res.statusCode };
      failure = { error: res.statusCode >= 300 && res.statusCode < 400 ? 'redirect not followed' : `status ${res.statusCode}`, status: res.statusCode };
    } catch (err) {
      failure = { error: (err as Error).message };
    }
    if (attempts >= this.retry.maxAttempts) return { state: 'dead_lettered', attempts, last_error: failure.error, last_status: failure.status };
    return { state: 'pending', attempts, last_error: failure.error, last_status: failure.status, next_at: now.getTime() + backoffMs(attempts - 1, this.retry) };
  }
}
