// Makes `require(name)` return `exports` in this process, for every module that asks, the way the
// Functions Node.js worker provides `@azure/functions-core`: the module is on no disk, so the hook sits
// in Node's CommonJS loader (Module._load, which every require() goes through, bundled or not).
import Module from 'node:module';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

export function provideModule(name: string, exports: unknown): void {
  const loader = Module as unknown as { _load: Load };
  const load = loader._load;
  loader._load = function provided(this: unknown, request, parent, isMain) {
    return request === name ? exports : load.call(this, request, parent, isMain);
  };
}
