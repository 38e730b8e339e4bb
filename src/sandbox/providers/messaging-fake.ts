import { FakeProvider, type FakeServer } from './fake-provider';
import { MediaStore, type MediaDownload } from './media-store';
import { WebhookOutbox } from './webhook-outbox';

/**
 * The customer's side of a messaging fake, shared by its routes and its programmatic API: the
 * files it hosts, the delivery statuses it posts and the delivery failures queued for the next
 * messages (`F`, in the provider's terms).
 */
export class CustomerSide<S extends object, F> {
  readonly media: MediaStore;
  readonly statuses: WebhookOutbox<S>;
  private deliveryFailures: F[] = [];

  constructor(label: string, statusNoun: string) {
    this.media = new MediaStore(label);
    this.statuses = new WebhookOutbox<S>(label, statusNoun);
  }

  failNextDelivery(failure: F): void {
    this.deliveryFailures.push(failure);
  }

  /** The failure the message just accepted is to meet, if one is queued. */
  takeDeliveryFailure(): F | undefined {
    return this.deliveryFailures.shift();
  }

  clearDeliveryFailures(): void {
    this.deliveryFailures = [];
  }
}

/** A provider fake that also plays the customer: hosts their files and reports deliveries. */
export abstract class MessagingFake<T, S extends object, F> extends FakeProvider<T> {
  protected constructor(
    server: FakeServer<T>,
    protected readonly customer: CustomerSide<S, F>,
  ) {
    super(server);
  }

  /** Every request for a hosted file, refused ones included, oldest first. */
  mediaDownloads(): MediaDownload[] {
    return this.customer.media.downloads.all();
  }

  /** Resolves with all media requests once there are at least `count`. */
  waitForMediaDownloads(count: number, timeoutMs = 5_000): Promise<MediaDownload[]> {
    return this.customer.media.downloads.waitFor(count, timeoutMs);
  }

  clearMediaDownloads(): void {
    this.customer.media.downloads.clear();
  }

  /** Also drops the delivery failures queued with `failNextDelivery`. */
  override clearFaults(): void {
    super.clearFaults();
    this.customer.clearDeliveryFailures();
  }

  /** Stops posting statuses (what is still queued is dropped), then closes the server. */
  override async close(): Promise<void> {
    await this.customer.statuses.close();
    await super.close();
  }
}
