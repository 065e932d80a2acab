// Minimal static file server with HTTP range requests (PMTiles needs them;
// python's http.server has none). Listens on 127.0.0.1 only, and stops by
// itself after MAXSECONDS (default 120) so a test can never leave it behind.
// Usage: node serve.mjs DIR PORT [MAXSECONDS]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [dir, port, maxs = '120'] = process.argv.slice(2);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.join(path.resolve(dir), rel.endsWith('/') ? rel + 'index.html' : rel);
  if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  const size = fs.statSync(file).size;
  const type = types[path.extname(file)] || 'application/octet-stream';
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
  if (m) {
    const start = +m[1], end = Math.min(m[2] ? +m[2] : size - 1, size - 1);
    if (start >= size) { res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end(); return; }
    res.writeHead(206, { 'Content-Type': type, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Accept-Ranges': 'bytes' });
    fs.createReadStream(file, { start, end }).pipe(res);
  } else {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Accept-Ranges': 'bytes' });
    fs.createReadStream(file).pipe(res);
  }
});
server.listen(+port, '127.0.0.1', () => console.log(`serving ${dir} on http://127.0.0.1:${port}/`));
setTimeout(() => { server.close(); process.exit(0); }, +maxs * 1000).unref();
