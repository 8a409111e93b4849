import { Observable, Subject, type Subscriber } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientEvent } from '../actors/events.js';
import { RunFeed } from '../src/session/chat-run.js';

/** Lines in, events out: a line starting with `chat` may join a run. */
class LineFeed extends RunFeed<string, string> {
  protected chatOf(line: string): string | null {
    return line.startsWith('chat') ? line : null;
  }

  protected eventOf(line: string): ClientEvent {
    return line === 'end' ? { type: 'request.end' } : { type: 'request.kill' };
  }

  protected runEvent(): ClientEvent {
    return { type: 'request.disconnect' };
  }

  protected chatEvent(): ClientEvent {
    return { type: 'request.disconnect' };
  }
}

function harness() {
  const sent: string[] = [];
  const feed = new LineFeed({ send: (event) => void sent.push(event.type) });
  let subscriber!: Subscriber<string>;
  let tornDown = 0;
  const stream = new Observable<string>((s) => {
    subscriber = s;
    return () => void tornDown++;
  });
  const subscription = stream.subscribe(feed);
  return { sent, feed, subscription, subscriber: () => subscriber, tornDown: () => tornDown };
}

describe('a feed as its own subscription', () => {
  it('is the subscriber RxJS hands the stream: no wrapper, and its teardown is the stream\'s', () => {
    const { feed, subscription, subscriber, tornDown } = harness();
    expect(subscription).toBe(feed);
    expect(subscriber()).toBe(feed);
    expect(tornDown()).toBe(0);
    subscription.unsubscribe();
    subscription.unsubscribe();
    expect(tornDown()).toBe(1);
    expect(feed.closed).toBe(true);
  });

  it('hands nothing on once unsubscribed, the run gathered in the read included', async () => {
    const { sent, subscription, subscriber } = harness();
    subscriber().next('kill');
    subscriber().next('chat one');
    subscription.unsubscribe();
    subscriber().next('kill');
    await Promise.resolve();
    expect(sent).toEqual(['request.kill']);
  });

  it('closes on complete (after its run) and on error (after telling the actor the input ended)', () => {
    const completed = harness();
    completed.subscriber().next('chat one');
    completed.subscriber().complete();
    completed.subscriber().next('kill');
    expect(completed.sent).toEqual(['request.disconnect']);
    expect(completed.tornDown()).toBe(1);

    const failed = harness();
    failed.subscriber().error(new Error('a second subscriber'));
    failed.subscriber().next('kill');
    expect(failed.sent).toEqual(['request.end']);
    expect(failed.tornDown()).toBe(1);
  });

  it('runs a teardown added after it closed at once, and every teardown added before', () => {
    const sent: string[] = [];
    const feed = new LineFeed({ send: (event) => void sent.push(event.type) });
    const source = new Subject<string>();
    source.subscribe(feed);
    let first = 0;
    let second = 0;
    feed.add(() => void first++);
    feed.add({ unsubscribe: () => void second++ });
    feed.unsubscribe();
    expect([first, second]).toEqual([1, 1]);
    feed.add(() => void first++);
    expect(first).toBe(2);
    source.next('kill');
    expect(sent).toEqual([]);
  });

  it('reports an actor\'s throw on its own, not to the stream that handed the request on', () => {
    vi.useFakeTimers();
    let throws = true;
    const sent: string[] = [];
    const feed = new LineFeed({
      send: (event) => {
        if (throws) throw new Error('the actor failed to take it');
        sent.push(event.type);
      },
    });
    const source = new Subject<string>();
    source.subscribe(feed);
    expect(() => source.next('kill')).not.toThrow();
    expect(vi.getTimerCount()).toBe(1);
    expect(() => vi.runOnlyPendingTimers()).toThrow('the actor failed to take it');
    throws = false;
    source.next('kill');
    expect(sent).toEqual(['request.kill']);
  });
});

afterEach(() => {
  vi.useRealTimers();
});
