// A job queue's worker per device sleeps between polls; a new job wakes its device's worker at once instead
// of waiting out the poll interval, and stopping wakes them all.

export class Wakers {
  private readonly waiting = new Map<string, () => void>();

  /** Waits `ms`, or less when `wake(key)` or `wakeAll()` is called meanwhile. */
  idle(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiting.set(key, done);
    });
  }

  wake(key: string): void {
    this.waiting.get(key)?.();
  }

  wakeAll(): void {
    for (const wake of this.waiting.values()) wake();
  }
}
