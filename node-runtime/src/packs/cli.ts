/**
 * `npm run pack -- <command>`: the operator's tool for model packs.
 *
 *   stamp DIR [--version V]        write manifest.json's file list (sizes, sha256) from DIR
 *   verify DIR                     check a pack the way the runtime will
 *   publish DIR --models-dir M     copy, verify and atomically swap DIR into M (see publish.ts)
 * @module
 */
import { defineCommand, exitWithUsage, readCommandLine } from '../../../cli/command-line.ts';
import { publishPack, stampPack } from './publish.ts';
import { verifyPack } from './verify.ts';

const PACK_COMMAND = defineCommand({
  name: 'npm run pack --',
  usage: 'stamp|verify|publish DIR [options]',
  summary: "The operator's tool for model packs.",
  positionals: true,
  options: {
    'models-dir': { type: 'string', value: 'DIR', default: 'models', help: "publish: the runtime's models directory" },
    version: { type: 'string', value: 'V', help: 'stamp: set the manifest version' },
  },
  notes: [
    'Commands:',
    "  stamp DIR      write manifest.json's file list (sizes, sha256) from DIR",
    '  verify DIR     check a pack the way the runtime will',
    '  publish DIR    copy, verify and atomically swap DIR into --models-dir',
  ].join('\n'),
});
const { positionals, values } = readCommandLine(PACK_COMMAND);
const [command, dir] = positionals;

async function main(): Promise<void> {
  if (!dir || !command) exitWithUsage(PACK_COMMAND, command ? 'missing DIR' : 'missing command');
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
      exitWithUsage(PACK_COMMAND, `unknown command '${command}'`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
