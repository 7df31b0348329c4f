// `node:fs` plus a `globSync` that says plainly it is unavailable (Node 20 has none; client
// mode of the conformance suite never calls it).
import fs from 'node:fs';

export * from 'node:fs';
export default fs;

export function globSync() {
  throw new Error('fs.globSync needs Node 22; not available in this test setup');
}
