// The S3-protocol server the tests run against: s3rver (objects as files under --directory), on 127.0.0.1:--port,
// credentials S3RVER / S3RVER. Prints "ready" once it listens. Started by tests/run; MinIO is what production runs.
'use strict';
const fs = require('fs');
const path = require('path');

// Three fixes, applied here in the test set-up only (idempotent):
// - s3rver decodes x-amz-copy-source with decodeURI, which leaves the %2F of keys with slashes encoded, so a copy
//   (how a blob is "touched" on S3) cannot find its source;
// - its XML answers use the namespace http://doc.s3.amazonaws.com/2006-03-01/ where S3 (and MinIO) use
//   http://s3.amazonaws.com/doc/2006-03-01/, and SDKs that parse by namespace (Minio's listings) then see nothing;
// - a copy of an object onto itself (new metadata) leaves its modification time, where S3 makes it a new object.
const controllers = path.join(__dirname, 'node_modules', 's3rver', 'lib', 'controllers');
for (const name of fs.readdirSync(controllers)) {
  const file = path.join(controllers, name);
  const source = fs.readFileSync(file, 'utf8');
  const fixed = source
    .replace("decodeURI(ctx.headers['x-amz-copy-source'])", "decodeURIComponent(ctx.headers['x-amz-copy-source'])")
    .replaceAll('http://doc.s3.amazonaws.com/2006-03-01/', 'http://s3.amazonaws.com/doc/2006-03-01/');
  if (fixed !== source) fs.writeFileSync(file, fixed);
}
const store = path.join(__dirname, 'node_modules', 's3rver', 'lib', 'stores', 'filesystem.js');
const storeSource = fs.readFileSync(store, 'utf8');
const marker = '    if (replacementMetadata) {\n      await this.putMetadata(destBucket, destKey, replacementMetadata);';
if (!storeSource.includes('fs.utimes(destObjectPath') && storeSource.includes(marker)) {
  fs.writeFileSync(store, storeSource.replace(marker,
    '    if (srcObjectPath === destObjectPath) { const now = new Date(); await fs.utimes(destObjectPath, now, now); }\n' + marker));
}

const S3rver = require('s3rver');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(arg('--port', '4569')),
  directory: arg('--directory', path.join(require('os').tmpdir(), 'visionlabel-s3')),
  silent: true,
});
server.run().then(() => console.log('ready'), e => { console.error(e); process.exit(1); });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close().then(() => process.exit(0)));
