/**
 * A real browser for the web door's tests: Debian's chromium, driven by puppeteer-core (which
 * brings no browser of its own). Under CI=true (.ci/run installs chromium) a missing one is a failure.
 */
import { existsSync } from 'node:fs';
import { afterAll } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | null {
  const found = CANDIDATES.find((path): path is string => path !== undefined && path !== '' && existsSync(path)) ?? null;
  if (!found && process.env.CI === 'true') throw new Error('the browser tests need chromium under CI=true');
  if (!found) console.warn('\n*** SKIPPING BROWSER TESTS: no chromium (apt-get install chromium, or CHROMIUM_PATH) ***\n');
  return found;
}

let browser: Promise<Browser> | null = null;

/** One browser for the file's tests; each test opens its own pages (separate contexts: separate people). */
export function launchBrowser(executablePath: string): Promise<Browser> {
  browser ??= puppeteer.launch({
    executablePath,
    headless: true,
    // As root in a container: no sandbox; no GPU here; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
  return browser;
}

afterAll(async () => {
  await (await browser)?.close();
  browser = null;
});

/** A page of its own (its own cookies and storage), sized as a laptop's window unless told. */
export async function openPage(executablePath: string, url: string, viewport = { width: 1100, height: 700 }): Promise<Page> {
  const context = await (await launchBrowser(executablePath)).createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(viewport);
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(String(error)));
  (page as Page & { failures?: string[] }).failures = failures;
  await page.goto(url, { waitUntil: 'load' });
  return page;
}

/** Script errors the page threw so far. */
export function pageErrors(page: Page): string[] {
  return (page as Page & { failures?: string[] }).failures ?? [];
}

/** Signs in on the page as `nick`, joining `room`, and waits for the room's pane. */
export async function signIn(page: Page, nick: string, room: string): Promise<void> {
  await page.type('#nick', nick);
  await page.$eval('#autojoin', (input, value) => void ((input as unknown as { value: string }).value = value), room);
  await page.click('#login button[type=submit]');
  await page.waitForSelector(`.pane[data-room="${room}"]:not([hidden])`);
}

/** The texts of a room's log entries, as shown (messages: "from: text"; notices: their text). */
export async function logOf(page: Page, room: string): Promise<string[]> {
  return page.$$eval(`.pane[data-room="${room}"] .log > li`, (items) =>
    items.map((item) => {
      const from = item.querySelector('.from')?.textContent;
      const lines = [...item.querySelectorAll('.text .line')].map((line) => line.textContent);
      const text = lines.length > 0 ? lines.join('\n') : item.querySelector('.text')?.textContent ?? '';
      return from ? `${from}: ${text}` : text;
    }),
  );
}

export async function membersOf(page: Page, room: string): Promise<string[]> {
  return page.$$eval(`.pane[data-room="${room}"] .member-list li`, (items) => items.map((item) => item.textContent ?? ''));
}

/** Waits until `check` holds of the room's log (polled: the page changes on its own). */
export async function waitForLog(page: Page, room: string, check: (log: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = await logOf(page, room);
    if (check(log)) return log;
    if (Date.now() > deadline) throw new Error(`${what}: not seen in ${room}'s log: ${JSON.stringify(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function waitForMembers(page: Page, room: string, expected: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const members = await membersOf(page, room);
    if (JSON.stringify(members) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) throw new Error(`members of ${room}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(members)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
