// Polls the work queue and runs each item, as the Functions queue trigger does in Azure: a failure
// makes the message visible again after a short backoff; the fifth failure moves it to the poison queue.
import type { Services } from '../shared/services';
import { decodeItem, MAX_ATTEMPTS } from '../shared/work/queue';
import { workEngine, type WorkEngine } from '../shared/work/engine';
import { log } from '../shared/log';

export class QueueDispatcher {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly services: Services,
    private readonly idleMs = 200,
    /** Seconds before a failed message is visible again (the Functions host defaults to 0; we back off). */
    private readonly backoff: (dequeueCount: number) => number = (n) => Math.min(2 ** n, 30),
    private readonly engine: WorkEngine = workEngine,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Processes what is visible now; returns how many messages were handled. */
  async drainOnce(): Promise<number> {
    const work = this.services.work;
    await work.ensure();
    const got = await work.queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 300 });
    await Promise.all(
      got.receivedMessageItems.map(async (m) => {
        try {
          await this.engine.run(decodeItem(m.messageText), this.services);
          await work.queue.deleteMessage(m.messageId, m.popReceipt);
        } catch (e) {
          log.warn('work failed', { messageId: m.messageId, dequeueCount: m.dequeueCount, error: e instanceof Error ? e.message : String(e) });
          if (m.dequeueCount >= MAX_ATTEMPTS) {
            await work.toPoison(m.messageText);
            await work.queue.deleteMessage(m.messageId, m.popReceipt);
          } else {
            await work.queue.updateMessage(m.messageId, m.popReceipt, undefined, this.backoff(m.dequeueCount));
          }
        }
      }),
    );
    return got.receivedMessageItems.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let n = 0;
      try {
        n = await this.drainOnce();
      } catch (e) {
        log.warn('work queue poll failed', { error: e instanceof Error ? e.message : String(e) });
      }
      if (n === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.idleMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  }
}
