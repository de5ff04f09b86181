// Reads WARC files with webrecorder's warcio (JS) and verifies every record independently of
// crawld's reader: warcio parses the framing (gzip members, WARC headers, Content-Length); the
// digests are recomputed here with node:crypto SHA-1 and the base32-encode package (warcio's own
// dependency), the payload de-chunked by warcio's AsyncIterReader when Transfer-Encoding is chunked.
//
// Usage: node warcio_check.mjs FILE...   (warcio from <repo>/build-tools, or $WARCIO_MODULES)
// Prints one line per record, then "records=N block_verified=N payload_verified=N failures=N".
// Exit 0 when every record was read and every digest present matched; 1 otherwise; 2 when warcio
// is not installed. Installs nothing.
import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.WARCIO_MODULES || join(here, '..', '..', 'build-tools', 'node_modules');
const warcioEntry = join(modules, 'warcio', 'dist', 'index.js');
const base32Entry = join(modules, 'base32-encode', 'index.js');
if (!existsSync(warcioEntry) || !existsSync(base32Entry)) {
  console.log(`warcio not installed under ${modules} (run deploy/install-test-tools.sh)`);
  process.exit(2);
}
const { WARCParser, AsyncIterReader } = await import(pathToFileURL(warcioEntry).href);
const base32Encode = (await import(pathToFileURL(base32Entry).href)).default;

let records = 0, blockOk = 0, payloadOk = 0;
const failures = [];
const origWarn = console.warn;
console.warn = (...args) => { failures.push(`warcio warning: ${args.join(' ')}`); origWarn(...args); };

function digest(algo, bytes) {
  const name = algo.toLowerCase().replace('-', '');
  if (name !== 'sha1' && name !== 'sha256') return null;
  return base32Encode(createHash(name).update(bytes).digest(), 'RFC4648', { padding: false });
}

function check(label, header, bytes) {
  const [algo, value] = header.split(':', 2);
  const got = digest(algo, bytes);
  if (got === null) { failures.push(`${label}: unsupported algorithm ${algo}`); return false; }
  if (got !== value.replace(/=+$/, '').toUpperCase()) {
    failures.push(`${label}: header ${header}, computed ${algo}:${got}`);
    return false;
  }
  return true;
}

function indexOfBlankLine(buf) {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

async function payloadOf(block) {
  const end = indexOfBlankLine(block);
  if (end < 0) return new Uint8Array();
  const head = Buffer.from(block.subarray(0, end)).toString('latin1');
  const body = block.subarray(end + 4);
  const te = /^transfer-encoding:\s*(.*)$/im.exec(head);
  if (!te || !/(^|,)\s*chunked\s*$/i.test(te[1])) return body;
  const reader = new AsyncIterReader([body], null, true);
  const out = await reader.readFully();
  if (reader.errored) failures.push('warcio could not de-chunk a chunked payload');
  return out;
}

for (const file of process.argv.slice(2)) {
  try {
    const parser = new WARCParser(createReadStream(file), { parseHttp: false, keepHeadersCase: true });
    for await (const record of parser) {
      records++;
      const type = record.warcType;
      const uri = record.warcTargetURI || '';
      const label = `${file} @${parser.offset} ${type} ${uri}`;
      const block = await record.readFully();
      let line = `record ${type} ${uri} offset=${parser.offset} length=${block.length}`;
      if (block.length !== record.warcContentLength) {
        failures.push(`${label}: read ${block.length} bytes, Content-Length ${record.warcContentLength}`);
      }
      const bd = record.warcBlockDigest;
      if (!bd) failures.push(`${label}: no WARC-Block-Digest`);
      else if (check(`${label} block`, bd, block)) { blockOk++; line += ' block=ok'; }
      const pd = record.warcPayloadDigest;
      if (pd && type !== 'revisit') {
        const http = (record.warcContentType || '').startsWith('application/http');
        const payload = http ? await payloadOf(block) : block;
        if (check(`${label} payload`, pd, payload)) { payloadOk++; line += ' payload=ok'; }
      }
      console.log(line);
    }
  } catch (e) {
    failures.push(`${file}: ${e && e.stack ? e.stack : e}`);
  }
}
for (const f of failures) console.log(`FAIL ${f}`);
console.log(`records=${records} block_verified=${blockOk} payload_verified=${payloadOk} failures=${failures.length}`);
process.exit(failures.length === 0 && records > 0 ? 0 : 1);
