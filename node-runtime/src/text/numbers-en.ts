/**
 * Numbers read as an English listener expects: cardinals by `to-words` (one hundred twenty-three),
 * decimals digit by digit after "point" (three point one four), ordinals (twenty-first), digits
 * one at a time for codes and phone numbers.
 * @module
 */
import { ToWords } from 'to-words';

const words = new ToWords({ localeCode: 'en-US' });
const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const MAX_CARDINAL_DIGITS = 15;

/** to-words answers in Title Case without hyphens; a listener reads "twenty-three". */
function tidy(s: string): string {
  return s
    .toLowerCase()
    .replace(
      /\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety) (one|two|three|four|five|six|seven|eight|nine|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b/g,
      '$1-$2',
    );
}

/** `"123"` → one hundred twenty-three; `"-3.14"` → minus three point one four; `"007"` → zero zero seven. */
export function enCardinal(num: string): string {
  const negative = num.startsWith('-');
  const [int = '', frac] = num.replace(/^[-+]/, '').replace(/,/g, '').split('.');
  const whole =
    (int.length > 1 && int.startsWith('0')) || int.length > MAX_CARDINAL_DIGITS ? enDigits(int) : tidy(words.convert(Number(int === '' ? '0' : int)));
  return (negative ? 'minus ' : '') + whole + (frac ? ` point ${enDigits(frac)}` : '');
}

export function enOrdinal(n: number): string {
  return tidy(words.toOrdinal(n));
}

export function enDigits(digits: string): string {
  return [...digits]
    .filter((d) => d >= '0' && d <= '9')
    .map((d) => ONES[Number(d)])
    .join(' ');
}

/** A year as said aloud: 2026 → twenty twenty-six, 2005 → two thousand five, 1900 → nineteen hundred. */
export function enYear(year: number): string {
  if (year < 1000 || year > 9999 || (year >= 2000 && year < 2010)) return enCardinal(String(year));
  const hi = Math.floor(year / 100);
  const lo = year % 100;
  return `${enCardinal(String(hi))} ${lo === 0 ? 'hundred' : lo < 10 ? `oh ${ONES[lo]}` : enCardinal(String(lo))}`;
}

/** An amount in a currency: 12.5 dollars → twelve dollars and fifty cents. */
export function enMoney(num: string, unit: { one: string; many: string; cent?: { one: string; many: string } }): string {
  const [int = '0', frac = ''] = num.replace(/,/g, '').split('.');
  const cents = frac === '' ? 0 : Math.round(Number(`0.${frac}`) * 100);
  const main = `${enCardinal(int)} ${Number(int) === 1 ? unit.one : unit.many}`;
  if (cents === 0) return main;
  if (!unit.cent) return `${enCardinal(`${int}.${frac.replace(/0+$/, '')}`)} ${unit.many}`;
  return `${main} and ${enCardinal(String(cents))} ${cents === 1 ? unit.cent.one : unit.cent.many}`;
}
