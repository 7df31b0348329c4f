// Preloaded into the conformance CLI (`node --import`). Two adjustments, both for this
// project's test machines:
//
// 1. Loopback only. The suite's mock MCP and authorization servers call `listen(0)` with no
//    host, which binds every interface. We rebind such listeners to 127.0.0.1 at the level of
//    `Server#_listen2`, the internal step that `listen()` reaches synchronously when no host is
//    given, so `server.address()` still answers right after `listen()` as the suite expects.
// 2. Node 20. The suite's bundle imports `globSync` from `fs`, which only Node 22 exports; the
//    import fails at link time. A resolve hook gives the bundle an `fs` with a `globSync` stub
//    (only the suite's `tier-check` command uses it, never client mode).
import net from 'node:net';
import fs from 'node:fs';
import { register } from 'node:module';

const listen2 = net.Server.prototype._listen2;
if (typeof listen2 === 'function' && !process.env.MCP_CONFORMANCE_ANY_INTERFACE) {
  net.Server.prototype._listen2 = function (address, port, addressType, ...rest) {
    if (address == null || address === '::' || address === '0.0.0.0') {
      return listen2.call(this, '127.0.0.1', port, 4, ...rest);
    }
    return listen2.call(this, address, port, addressType, ...rest);
  };
}

if (typeof fs.globSync !== 'function') {
  register('./node20-hooks.mjs', import.meta.url);
}
