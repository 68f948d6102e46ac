/**
 * `npm run pack -- <command>`: the operator's tool for model packs.
 *
 *   stamp DIR [--version V]        write manifest.json's file list (sizes, sha256) from DIR
 *   verify DIR                     check a pack the way the runtime will
 *   publish DIR --models-dir M     copy, verify and atomically swap DIR into M (see publish.ts)
 * @module
 */
import { parseArgs } from 'node:util';
import { publishPack, stampPack } from './publish.ts';
import { verifyPack } from './verify.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'models-dir': { type: 'string', default: 'models' }, version: { type: 'string' } },
});
const [command, dir] = positionals;

async function main(): Promise<void> {
  if (!dir || !command) throw new Error('usage: pack stamp|verify|publish DIR [--models-dir M] [--version V]');
  switch (command) {
    case 'stamp':
      await stampPack(dir, values.version === undefined ? {} : { version: values.version });
      console.log(`stamped ${dir}`);
      return;
    case 'verify': {
      const pack = await verifyPack(dir);
      console.log(`ok ${pack.manifest.name}@${pack.manifest.version} (${pack.manifest.files.length} files)`);
      return;
    }
    case 'publish': {
      const result = await publishPack(dir, values['models-dir']);
      console.log(`published ${result.name}@${result.version} -> ${result.target}; now reload the runtime (POST /admin/models/reload or SIGHUP)`);
      return;
    }
    default:
      throw new Error(`unknown command ${command}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
