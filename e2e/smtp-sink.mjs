// A minimal SMTP sink for the auth end-to-end tests, with Node's `net` and `http` only.
//
//   node e2e/smtp-sink.mjs <smtp-port> <http-port>
//
// Listens on 127.0.0.1 only. Accepts every message (no TLS, no AUTH) and keeps it in memory.
// The mailbox is served as JSON on the HTTP port:
//   GET /messages[?to=addr]   the messages (to one recipient), oldest first:
//                             [{ from, to: [...], subject, text, html, raw }]
//                             text/html are the decoded parts (quoted-printable or base64)
//   GET /health               200 "ok"
// Port 0 lets the OS pick. Prints "smtp-sink ready <smtp-port> <http-port>" on stdout once both
// ports listen (the bound ports, so a caller that passed 0 learns them without a probe race).

import net from 'node:net';
import http from 'node:http';

const [smtpPort, httpPort] = process.argv.slice(2).map(Number);
if (!Number.isInteger(smtpPort) || !Number.isInteger(httpPort)) {
  console.error('usage: node smtp-sink.mjs <smtp-port> <http-port>');
  process.exit(2);
}

const messages = [];

// ---- MIME --------------------------------------------------------------------------------

// Splits a message (or part) into lower-cased headers (folded lines joined) and its body.
function splitHeaders(raw) {
  const idx = raw.search(/\r?\n\r?\n/);
  const head = idx < 0 ? raw : raw.slice(0, idx);
  const body = idx < 0 ? '' : raw.slice(idx).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  let last = null;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      headers[last] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeQuotedPrintable(s) {
  const bytes = [];
  const soft = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(body, encoding) {
  switch ((encoding || '').toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

// RFC 2047 encoded words in headers (=?utf-8?b?...?= / =?utf-8?q?...?=).
function decodeHeader(value) {
  return (value || '').replace(/=\?[^?]+\?([bBqQ])\?([^?]*)\?=/g, (_, enc, text) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}

// Collects the decoded text/plain and text/html parts, walking nested multiparts.
function collectParts(raw, out) {
  const { headers, body } = splitHeaders(raw);
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const chunks = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
    for (const chunk of chunks.slice(1)) {
      if (chunk.trim()) collectParts(chunk, out);
    }
    return;
  }
  const decoded = decodeBody(body, headers['content-transfer-encoding']);
  if (/^text\/html/i.test(type)) out.html ??= decoded;
  else if (/^text\/plain/i.test(type)) out.text ??= decoded;
}

function parseMessage(from, to, raw) {
  const { headers } = splitHeaders(raw);
  const parts = {};
  collectParts(raw, parts);
  return {
    from,
    to,
    subject: decodeHeader(headers.subject),
    text: parts.text ?? '',
    html: parts.html ?? '',
    raw,
  };
}

// ---- SMTP --------------------------------------------------------------------------------

const address = (arg) => (/<([^>]*)>/.exec(arg)?.[1] ?? arg.split(/\s/)[0]).trim().toLowerCase();

const smtp = net.createServer((socket) => {
  let buffer = '';
  let inData = false;
  let dataLines = [];
  let from = '';
  let to = [];
  const reply = (line) => socket.write(line + '\r\n');
  const reset = () => {
    from = '';
    to = [];
    dataLines = [];
  };
  reply('220 smtp-sink ESMTP ready');

  socket.setEncoding('latin1'); // keep bytes as they are; bodies are 7-bit after encoding
  socket.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      if (inData) {
        if (line === '.') {
          inData = false;
          const raw = Buffer.from(dataLines.join('\r\n'), 'latin1').toString('utf8');
          messages.push(parseMessage(from, to, raw));
          reset();
          reply('250 2.0.0 OK: queued');
        } else {
          dataLines.push(line.startsWith('..') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      const arg = line.slice(4).replace(/^[: ]+/, '');
      switch (verb) {
        case 'EHLO':
          reply('250-smtp-sink');
          reply('250-8BITMIME');
          reply('250 SMTPUTF8');
          break;
        case 'HELO':
          reply('250 smtp-sink');
          break;
        case 'MAIL':
          reset();
          from = address(arg.replace(/^FROM:?\s*/i, ''));
          reply('250 2.1.0 OK');
          break;
        case 'RCPT':
          to.push(address(arg.replace(/^TO:?\s*/i, '')));
          reply('250 2.1.5 OK');
          break;
        case 'DATA':
          if (to.length === 0) {
            reply('503 5.5.1 RCPT first');
            break;
          }
          inData = true;
          dataLines = [];
          reply('354 End data with <CR><LF>.<CR><LF>');
          break;
        case 'RSET':
          reset();
          reply('250 2.0.0 OK');
          break;
        case 'NOOP':
          reply('250 2.0.0 OK');
          break;
        case 'QUIT':
          reply('221 2.0.0 Bye');
          socket.end();
          break;
        default:
          reply('502 5.5.2 Command not implemented');
      }
    }
  });
  socket.on('error', () => {});
});

// ---- HTTP --------------------------------------------------------------------------------

const api = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method === 'GET' && url.pathname === '/messages') {
    const to = url.searchParams.get('to')?.toLowerCase();
    const list = to ? messages.filter((m) => m.to.includes(to)) : messages;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
});

let listening = 0;
const ready = () => {
  if (++listening === 2) console.log(`smtp-sink ready ${smtp.address().port} ${api.address().port}`);
};
smtp.listen(smtpPort, '127.0.0.1', ready);
api.listen(httpPort, '127.0.0.1', ready);

const stop = () => {
  smtp.close();
  api.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
