// Bounded concurrency for face inference: at most `concurrency` pipelines run at once, at most `maxWaiting`
// wait; beyond that the caller is told to come back (face-busy, with a retry delay) instead of piling up.

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  get depth(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new QueueFullError(`${this.running} face requests running and ${this.waiting.length} waiting`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; `running` stays the same.
      if (next) next();
      else this.running--;
    }
  }
}
