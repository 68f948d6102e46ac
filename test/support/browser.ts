/**
 * Headless Debian Chromium driven by playwright-core (no browser download). The flags keep
 * Chromium off the network this sandbox does not have.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { systemPackage } from './system-package.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when the browser is installed; missing, it skips with one line, and fails under CI=true. */
export const hasChromium = systemPackage('chromium', () => existsSync(CHROMIUM), 'apt-get install chromium');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
