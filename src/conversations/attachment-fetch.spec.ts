import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchAttachment, MAX_ATTACHMENT_BYTES } from './attachment-fetch';

describe('fetchAttachment', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/photo.jpg')
        res.writeHead(200, { 'content-type': 'image/jpeg; q=1' }).end('jpeg');
      else if (req.url === '/huge') {
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-length': MAX_ATTACHMENT_BYTES + 1,
        });
        res.end(Buffer.alloc(MAX_ATTACHMENT_BYTES + 1));
      } else if (req.url === '/undeclared') {
        // Chunked, no content-length: only counting the bytes finds it too large.
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.write(Buffer.alloc(MAX_ATTACHMENT_BYTES));
        res.end(Buffer.alloc(10));
      } else if (req.url === '/busy') res.writeHead(503).end();
      else if (req.url === '/empty') res.writeHead(200).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('downloads the file with its media type', async () => {
    const fetched = await fetchAttachment(`${url}/photo.jpg`);
    expect(fetched.content?.toString()).toBe('jpeg');
    expect(fetched.contentType).toBe('image/jpeg');
    expect(fetched.refusal).toBeUndefined();
  });

  it('refuses for good what cannot be delivered, in words for the agent', async () => {
    expect(await fetchAttachment(`${url}/huge`)).toEqual({ refusal: 'it is larger than 20 MB' });
    expect(await fetchAttachment(`${url}/undeclared`)).toEqual({
      refusal: 'it is larger than 20 MB',
    });
    expect(await fetchAttachment(`${url}/gone`)).toEqual({
      refusal: 'it could not be fetched (HTTP 404)',
    });
    expect(await fetchAttachment(`${url}/empty`)).toEqual({ refusal: 'it is empty' });
  });

  it('throws on a passing failure, so that the relay retries', async () => {
    await expect(fetchAttachment(`${url}/busy`)).rejects.toThrow('HTTP 503');
    await expect(fetchAttachment('http://127.0.0.1:9/x')).rejects.toThrow();
  });
});
