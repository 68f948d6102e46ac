/** Types for flite-worker.mjs (plain JavaScript so worker threads load it without tsx). */
export default function synthesize(task: { text: string; voice: string; speed: number }): Promise<unknown>;
