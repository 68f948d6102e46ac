/**
 * Numbers read as a Mandarin listener expects: cardinals by `nzh` (一百二十三, 一千零五, 三点一四),
 * years and codes digit by digit (二〇二六), 两 before a measure word (两个), and 幺 for 1 in
 * phone numbers.
 * @module
 */
import Nzh from 'nzh';

const DIGITS = '零一二三四五六七八九';
/** Beyond this many integer digits a cardinal is no longer what anyone says: read the digits. */
const MAX_CARDINAL_DIGITS = 12;

/** `"123"` → 一百二十三; `"-3.14"` → 负三点一四; `"007"` → 零零七. */
export function zhCardinal(num: string): string {
  const negative = num.startsWith('-');
  const [int = '', frac] = num.replace(/^[-+]/, '').replace(/,/g, '').split('.');
  const whole =
    (int.length > 1 && int.startsWith('0')) || int.length > MAX_CARDINAL_DIGITS ? zhDigits(int) : Nzh.cn.encodeS(int === '' ? '0' : int, { ww: false });
  return (negative ? '负' : '') + whole + (frac ? `点${zhDigits(frac)}` : '');
}

/** Digit by digit: 2026 → 二〇二六 (years), 0 as 〇 when `year`, else 零. */
export function zhDigits(digits: string, opts: { year?: boolean; phone?: boolean } = {}): string {
  let out = '';
  for (const d of digits) {
    if (d < '0' || d > '9') continue;
    if (d === '0' && opts.year) out += '〇';
    else if (d === '1' && opts.phone) out += '幺';
    else out += DIGITS[Number(d)];
  }
  return out;
}

/** Money amounts: ¥38 → 三十八元; ¥38.50 → 三十八元五角; 0.05 → 五分. */
export function zhYuan(num: string): string {
  const [int = '0', frac = ''] = num.replace(/,/g, '').split('.');
  const jiao = Number(frac[0] ?? '0');
  const fen = Number(frac[1] ?? '0');
  let out = int !== '0' || (jiao === 0 && fen === 0) ? `${zhCardinal(int)}元` : '';
  if (jiao > 0) out += `${DIGITS[jiao]}角`;
  if (fen > 0) out += `${jiao === 0 && out !== '' ? '零' : ''}${DIGITS[fen]}分`;
  return out;
}
