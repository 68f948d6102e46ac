/**
 * Script detection: decides which language family a text needs, so a request is never routed to
 * a model that cannot speak it (a 200 with the wrong language is a silent failure). CJK
 * ideographs → zh, kana → ja, hangul → ko, otherwise Latin → en.
 * @module
 */
import type { Language } from '../../config/schema.ts';

export function detectLanguage(text: string): Language {
  let han = 0;
  let kana = 0;
  let hangul = 0;
  let latin = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x20000 && c <= 0x2a6df) || (c >= 0xf900 && c <= 0xfaff)) han++;
    else if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x31f0 && c <= 0x31ff)) kana++;
    else if ((c >= 0xac00 && c <= 0xd7af) || (c >= 0x1100 && c <= 0x11ff)) hangul++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0x24f)) latin++;
  }
  if (kana > 0 && kana + han >= latin) return 'ja';
  if (hangul > 0 && hangul >= latin) return 'ko';
  if (han > 0 && han >= latin / 4) return 'zh';
  return 'en';
}
