/** What a fake has recorded, in arrival order, with a way to wait until enough has arrived. */
export class MessageCapture<T> {
  private captured: T[] = [];
  private readonly listeners = new Set<() => void>();

  /** `label` names the fake in errors, `noun` what is recorded (`message`, `status callback`…). */
  constructor(
    private readonly label: string,
    private readonly noun = 'message',
  ) {}

  record(message: T): void {
    this.captured.push(message);
    for (const listener of this.listeners) listener();
  }

  all(): T[] {
    return [...this.captured];
  }

  clear(): void {
    this.captured = [];
  }

  waitFor(count: number, timeoutMs: number): Promise<T[]> {
    if (this.captured.length >= count) return Promise.resolve(this.all());
    return new Promise((resolve, reject) => {
      const onRecord = (): void => {
        if (this.captured.length < count) return;
        this.listeners.delete(onRecord);
        clearTimeout(timer);
        resolve(this.all());
      };
      const timer = setTimeout(() => {
        this.listeners.delete(onRecord);
        const got = this.captured.length;
        reject(
          new Error(
            `${this.label}: expected ${count} ${this.noun}(s) within ${timeoutMs} ms, got ${got}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(onRecord);
    });
  }
}
