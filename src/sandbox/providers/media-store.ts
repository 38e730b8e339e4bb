import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { MessageCapture } from './capture';

/** A file a fake serves as a customer's attachment. */
export interface HostedMedia {
  id: string;
  content: Buffer;
  contentType: string;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /**
   * Another part of the download URL that must match, as the provider checks it (the message the
   * file belongs to, a signed hash); a request with another value finds no file.
   */
  scope?: string;
}

/** One request for a hosted file, answered or refused. */
export interface MediaDownload {
  mediaId: string;
  /** The HTTP status answered: 200, 401 without valid credentials, 404 for an unknown file. */
  status: number;
  receivedAt: string;
}

/** The customers' files a fake serves, and every request made for them. */
export class MediaStore {
  private readonly files = new Map<string, HostedMedia>();
  readonly downloads: MessageCapture<MediaDownload>;

  constructor(label: string) {
    this.downloads = new MessageCapture<MediaDownload>(label, 'media download');
  }

  add(id: string, content: Buffer, contentType: string, scope?: string): HostedMedia {
    const media: HostedMedia = {
      id,
      content,
      contentType,
      sha256: createHash('sha256').update(content).digest('hex'),
      scope,
    };
    this.files.set(id, media);
    return media;
  }

  get(id: string): HostedMedia | undefined {
    return this.files.get(id);
  }

  /**
   * Answers a download of `id` (requested with `scope`) with the file's bytes, or through
   * `refuse` with 401 when the request is not `authorized` (checked first, as providers do) or
   * 404 when there is no such file; the attempt is recorded either way.
   */
  serve(
    res: Response,
    { id, scope, authorized }: { id: string; scope?: string; authorized: boolean },
    refuse: (res: Response, status: 401 | 404) => void,
  ): void {
    const hosted = authorized ? this.files.get(id) : undefined;
    const media = hosted?.scope === scope ? hosted : undefined;
    const status = !authorized ? 401 : media ? 200 : 404;
    this.downloads.record({ mediaId: id, status, receivedAt: new Date().toISOString() });
    if (media) res.status(200).set('content-type', media.contentType).send(media.content);
    else refuse(res, authorized ? 404 : 401);
  }
}
