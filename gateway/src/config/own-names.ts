/**
 * Names a config or a request uses as keys into plain objects (plans, OpenAI model names) must
 * not be names every JavaScript object already has: `plans['toString']` is a function, so a key
 * whose plan is `toString` passed a `k.plan in plans` check and then failed every request with a
 * 500, and `openai_models['constructor']` mapped a request onto a role. Lookups by such a name
 * use `Object.hasOwn`; config validation refuses the names outright.
 * @module
 */
import { z } from 'zod';

/** True for `toString`, `constructor`, `__proto__`, `hasOwnProperty`, `valueOf`… */
export function isPrototypeName(name: string): boolean {
  return name in Object.prototype || name === '__proto__' || name === 'prototype';
}

/** A config name that may key a plain object. */
export const OwnNameSchema = z
  .string()
  .min(1)
  .refine((name) => !isPrototypeName(name), { message: 'is a property every JavaScript object has (toString, constructor, __proto__…); choose another name' });

/** `record[name]` only when `name` is the record's own key. */
export function ownValue<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}
