/** Per-subscription request budgets (token buckets), answering 429 as ARM does when spent. */
import type { ThrottleBudget, ThrottleConfig } from '../config';
import { ArmError } from './errors';

type Kind = 'reads' | 'writes' | 'deletes';

class Bucket {
  tokens: number;
  last = Date.now();
  constructor(public budget: ThrottleBudget) {
    this.tokens = budget.capacity;
  }
  refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.budget.capacity, this.tokens + ((now - this.last) / 1000) * this.budget.refillPerSecond);
    this.last = now;
  }
}

export class Throttle {
  private buckets = new Map<string, Bucket>();

  constructor(private config: ThrottleConfig) {}

  configure(config: Partial<ThrottleConfig>): void {
    this.config = { ...this.config, ...config };
    this.buckets.clear();
  }

  current(): ThrottleConfig {
    return this.config;
  }

  /** Spends one token; returns headers for the response, or throws the 429. */
  spend(subscriptionId: string, method: string): Record<string, string> {
    const kind: Kind = method === 'GET' || method === 'HEAD' ? 'reads' : method === 'DELETE' ? 'deletes' : 'writes';
    const key = `${subscriptionId.toLowerCase()}|${kind}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = new Bucket(this.config[kind]);
      this.buckets.set(key, b);
    }
    b.refill();
    if (b.tokens < 1) {
      const wait = b.budget.refillPerSecond > 0 ? Math.max(1, Math.ceil((1 - b.tokens) / b.budget.refillPerSecond)) : 3600;
      const word = kind === 'reads' ? 'read' : kind === 'deletes' ? 'delete' : 'write';
      throw new ArmError(
        429,
        'SubscriptionRequestsThrottled',
        `Number of '${word}' requests for subscription '${subscriptionId}' actor 'jacket' exceeded. Please try again after '${wait}' seconds after the last request.`,
        undefined,
        undefined,
        { 'Retry-After': String(wait), [`x-ms-ratelimit-remaining-subscription-${kind}`]: '0' },
      );
    }
    b.tokens -= 1;
    return { [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(Math.floor(b.tokens)) };
  }
}
