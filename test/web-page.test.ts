import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawClient, expectRead, startServer, wire } from './helpers.js';
import { chromiumPath, logOf, membersOf, openPage, pageErrors, signIn, waitForLog, waitForMembers } from './web-browser.js';

const chromium = chromiumPath();

/** Where the README's screenshot is written: docs/ with UPDATE_SCREENSHOT=1, else a scratch folder. */
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(import.meta.dirname, '../docs/web-page.png') : join(mkdtempSync(join(tmpdir(), 'chat-shot-')), 'web-page.png');

describe.skipIf(chromium === null)('web door in a real browser', () => {
  it('two browser pages and a lab client chat in one room: messages, joins, leaves, members, text never HTML', async () => {
    const server = await startServer({ webPort: 0, serverName: 'chat.test' });
    const url = `http://127.0.0.1:${server.webPort}/`;
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'carol'));
    await expectRead(lab, wire.joined('lobby', server.port, 0, 0) + wire.hasJoined(0, 'carol'));

    const alice = await openPage(chromium!, url);
    await signIn(alice, 'alice', 'lobby');
    await expectRead(lab, wire.hasJoined(0, 'alice'));
    await waitForMembers(alice, 'lobby', ['alice', 'carol']);

    const bob = await openPage(chromium!, url, { width: 390, height: 760 });
    await signIn(bob, 'bob', 'lobby');
    await expectRead(lab, wire.hasJoined(0, 'bob'));
    await waitForLog(alice, 'lobby', (log) => log.includes('bob joined.'), "bob's join");
    await waitForMembers(alice, 'lobby', ['alice', 'bob', 'carol']);
    await waitForMembers(bob, 'lobby', ['alice', 'bob', 'carol']);

    // Lab → browsers, a multi-line message shown as one message of two lines.
    lab.send(wire.chat(0, 0, 'carol', 'hello browsers\nthis is line two'));
    await expectRead(lab, wire.said(0, 'carol', 'hello browsers\nthis is line two'));
    for (const page of [alice, bob]) await waitForLog(page, 'lobby', (log) => log.includes('carol: hello browsers\nthis is line two'), "carol's message");

    // Browser → lab and the other browser; the sender's own copy is confirmed by the server.
    await alice.type('#message', 'hi carol');
    await alice.keyboard.press('Enter');
    await expectRead(lab, wire.said(0, 'alice', 'hi carol'));
    await waitForLog(bob, 'lobby', (log) => log.includes('alice: hi carol'), "alice's message");
    await alice.waitForSelector('.pane[data-room="lobby"] .msg.own:not(.pending)');

    // Unread counts for a room not in view.
    await alice.type('#join-name', 'side');
    await alice.click('#join-form button');
    await alice.waitForSelector('.pane[data-room="side"]:not([hidden])');
    await alice.click('.tab[data-room="lobby"] button');
    const side = await RawClient.connect(server.port);
    side.send(wire.join('side', 'dave'));
    const joinId = Number(/JOIN_ID: (\d+)/.exec(await side.readUntil(wire.hasJoined(1, 'dave')))![1]);
    side.send(wire.chat(1, joinId, 'dave', 'one') + wire.chat(1, joinId, 'dave', 'two'));
    // A string: it runs in the page, whose DOM this file's types do not describe.
    await alice.waitForFunction(`document.querySelector('.tab[data-room="side"] .unread')?.textContent === '2'`);

    await bob.type('#message', 'hello from my phone');
    await bob.keyboard.press('Enter');
    await expectRead(lab, wire.said(0, 'bob', 'hello from my phone'));
    await waitForLog(alice, 'lobby', (log) => log.includes('bob: hello from my phone'), "bob's message");
    await alice.screenshot({ path: SCREENSHOT });

    // A room name IRC cannot carry is refused on the page, in words.
    await alice.type('#join-name', 'side room');
    await alice.click('#join-form button');
    await alice.waitForSelector('.log .error');
    expect((await logOf(alice, 'lobby')).at(-1)).toContain('cannot be joined from here');

    // Markup from anyone is text: shown as typed, never run or rendered.
    const markup = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b>bold</b>';
    lab.send(wire.chat(0, 0, 'carol', markup));
    await expectRead(lab, wire.said(0, 'carol', markup));
    await waitForLog(alice, 'lobby', (log) => log.includes(`carol: ${markup}`), 'the markup as text');
    expect(await alice.evaluate('window.pwned')).toBeUndefined();
    expect(await alice.$$('.log script, .log img, .log b')).toHaveLength(0);

    // Leaving: a page closed is a quit the others see; the member lists follow.
    await bob.close();
    await expectRead(lab, wire.hasLeft(0, 'bob'));
    await waitForLog(alice, 'lobby', (log) => log.some((line) => line.startsWith('bob quit')), "bob's quit");
    await waitForMembers(alice, 'lobby', ['alice', 'carol']);
    lab.send(wire.leave(0, 0, 'carol'));
    await waitForLog(alice, 'lobby', (log) => log.includes('carol left.'), "carol's leave");
    await waitForMembers(alice, 'lobby', ['alice']);
    expect(pageErrors(alice)).toEqual([]);
  }, 90_000);

  it('reconnects after the server restarts and joins its rooms again', async () => {
    const first = await startServer({ webPort: 0 });
    const webPort = first.webPort!;
    const page = await openPage(chromium!, `http://127.0.0.1:${webPort}/`);
    await signIn(page, 'alice', 'lobby');
    await first.stop();
    await waitForLog(page, 'lobby', (log) => log.some((line) => line.startsWith('Disconnected from the server')), 'the disconnection');

    const second = await startServer({ webPort });
    const lab = await RawClient.connect(second.port);
    lab.send(wire.join('lobby', 'carol'));
    await expectRead(lab, wire.joined('lobby', second.port, 0, 0) + wire.hasJoined(0, 'carol'));
    // The page is back on its own (back-off from 1 s) and in its room again.
    await lab.readUntil(wire.hasJoined(0, 'alice'));
    await waitForMembers(page, 'lobby', ['alice', 'carol']);
    lab.send(wire.chat(0, 0, 'carol', 'welcome back'));
    await waitForLog(page, 'lobby', (log) => log.includes('carol: welcome back'), 'a message after the restart');
    expect(await membersOf(page, 'lobby')).toEqual(['alice', 'carol']);
    expect(pageErrors(page)).toEqual([]);
  }, 90_000);
});
