// @ts-check
/**
 * Worker-thread entry for the judge pool. Plain JavaScript on purpose: worker threads do not
 * inherit a TypeScript loader under vitest or a bare `node`, so this file brings tsx's in
 * (scoped to this import) and hands piscina the TypeScript task function.
 */
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./judge-task.ts', import.meta.url);
export default mod.judgeTask;
