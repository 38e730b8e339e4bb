import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { downloadFile, MAX_ATTACHMENT_BYTES } from './file-download';

describe('downloadFile', () => {
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
      else if (req.url === '/private') {
        if (req.headers.authorization === 'Bearer let-me-in') res.writeHead(200).end('secret');
        else res.writeHead(401).end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('downloads the file with its media type', async () => {
    const fetched = await downloadFile(`${url}/photo.jpg`);
    expect(fetched.content?.toString()).toBe('jpeg');
    expect(fetched.contentType).toBe('image/jpeg');
    expect(fetched.refusal).toBeUndefined();
  });

  it('sends the headers it is given, for providers that want credentials', async () => {
    expect(await downloadFile(`${url}/private`)).toEqual({
      refusal: 'it could not be fetched (HTTP 401)',
    });
    const fetched = await downloadFile(`${url}/private`, { authorization: 'Bearer let-me-in' });
    expect(fetched.content?.toString()).toBe('secret');
  });

  it('refuses for good what cannot be delivered, in words for the agent', async () => {
    expect(await downloadFile(`${url}/huge`)).toEqual({ refusal: 'it is larger than 20 MB' });
    expect(await downloadFile(`${url}/undeclared`)).toEqual({
      refusal: 'it is larger than 20 MB',
    });
    expect(await downloadFile(`${url}/gone`)).toEqual({
      refusal: 'it could not be fetched (HTTP 404)',
    });
    expect(await downloadFile(`${url}/empty`)).toEqual({ refusal: 'it is empty' });
  });

  it('throws on a passing failure, so that the relay retries', async () => {
    await expect(downloadFile(`${url}/busy`)).rejects.toThrow('HTTP 503');
    await expect(downloadFile('http://127.0.0.1:9/x')).rejects.toThrow();
  });
});
