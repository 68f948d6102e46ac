/**
 * The one shape every reliability mechanism shares: a `Service` turns an upstream request into
 * an upstream response; a `Layer` wraps a service in another (undici interceptors, linkerd
 * `layer::mk`). Layers read and annotate the request; they never reach outside it.
 * @module
 */
import type { Readable } from 'node:stream';
import type { Endpoint } from './endpoints.ts';
import type { AttemptSignal } from '../core/try-signal.ts';

export interface AttemptRecord {
  node: string;
  region: string;
  /** Wire code of the failure, or `ok`. */
  outcome: string;
  ms: number;
}

export interface Route {
  /** Config model id. */
  model: string;
  /** The pack name nodes serve for it. */
  pack?: string;
  /** Home region first, then the others by priority. */
  regions: string[];
}

/** Node scheduling class: batch work (jobs, pre-synthesis) yields to interactive requests. */
export type RequestPriority = 'interactive' | 'batch';

export interface UpstreamRequest {
  traceId: string;
  /** JSON body for the node runtime (`model` is already the pack name). */
  body: Buffer;
  route: Route;
  textLength: number;
  /** Epoch ms when the whole request's budget runs out. */
  deadlineAt: number;
  /** Aborts at the deadline or when the client goes away; its reason is a GatewayError. */
  deadline: AttemptSignal;
  /** This attempt's signal (deadline ∧ per-try timeout); set by the attempt-timeout layer. */
  signal: AttemptSignal;
  /** Lengthens this try's timeout by `ms` (never past the deadline); set by the attempt-timeout layer. */
  extendTry?: (ms: number) => void;
  attempt: number;
  /** Nodes already tried by this request: the balancer picks another one. */
  tried: Set<string>;
  attempts: AttemptRecord[];
  /** The node chosen for this attempt; set by the balance layer. */
  endpoint?: Endpoint;
  shadow?: boolean;
  /** Default interactive. Batch work is kept out of the gateway's capacity signals (balance layer). */
  priority?: RequestPriority;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  /** Small bodies are buffered; large ones stream (never `Readable.toWeb`: see notes). */
  body: Buffer | Readable;
  contentLength: number | undefined;
  node: string;
  region: string;
  /** Detaches the per-try timer from a streamed body (the deadline still applies). */
  release?: () => void;
}

export type Service = (req: UpstreamRequest) => Promise<UpstreamResponse>;
export type Layer = (inner: Service) => Service;
