/**
 * Splits a sentence into runs of Latin-script words and the rest, for engines whose Chinese voice
 * would read an English word as pinyin (espeak-ng's `cmn-latn-pinyin` reads "the" as "te"):
 * they speak the Latin runs with a second voice. Digits, spaces and punctuation join the run
 * before them (the first run when they lead), so no character is lost and none is read twice.
 * @module
 */
export interface LatinRun {
  latin: boolean;
  text: string;
}

const LATIN = /\p{Script=Latin}/u;
const LETTER = /[\p{L}\p{M}]/u;

/**
 * @example
 * splitLatinRuns('Please call 张伟 now.') // [{latin: true, 'Please call '}, {latin: false, '张伟 '}, {latin: true, 'now.'}]
 */
export function splitLatinRuns(text: string): LatinRun[] {
  const runs: LatinRun[] = [];
  let pending = '';
  for (const ch of text) {
    if (!LETTER.test(ch)) {
      if (runs.length === 0) pending += ch;
      else runs[runs.length - 1]!.text += ch;
      continue;
    }
    const latin = LATIN.test(ch);
    const last = runs[runs.length - 1];
    if (last && last.latin === latin) last.text += ch;
    else {
      runs.push({ latin, text: pending + ch });
      pending = '';
    }
  }
  if (pending.length > 0) runs.push({ latin: false, text: pending });
  return runs;
}
