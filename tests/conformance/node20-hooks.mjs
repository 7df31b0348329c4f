// Module resolve hook (Node 20): the conformance bundle's `fs` import gets `fs-with-glob.mjs`.
const PACKAGE = '/@modelcontextprotocol/conformance/';

export async function resolve(specifier, context, nextResolve) {
  const fromSuite = typeof context.parentURL === 'string' && context.parentURL.includes(PACKAGE);
  if (fromSuite && (specifier === 'fs' || specifier === 'node:fs')) {
    return { url: new URL('./fs-with-glob.mjs', import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
