/**
 * The table of text → speech rules, applied in order (dates before times before phone numbers
 * before money … before plain numbers, so a date is never read as three numbers). Each rule has
 * a reading for a Mandarin and for an English listener; which one applies is decided per match
 * by the words around it (normalize.ts).
 * @module
 */
import { zhCardinal, zhDigits, zhYuan } from './numbers-zh.ts';
import { enCardinal, enDigits, enMoney, enOrdinal, enYear } from './numbers-en.ts';

export type SpeechLang = 'zh' | 'en';
type Groups = Record<string, string | undefined>;

export interface SpeechRule {
  name: string;
  pattern: RegExp;
  /** Rules written in one language's script (English abbreviations) apply only there. */
  only?: SpeechLang;
  /** Returns undefined to leave the match as written (e.g. a "date" with month 13). */
  read: Record<SpeechLang, (g: Groups, match: string) => string | undefined>;
}

const NUM = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** An amount as a plain number: 12.50 → 12.5, 3.00 → 3 (nobody says "point five zero dollars"). */
const amount = (n: string) => n.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');

const money = {
  cny: { zh: zhYuan, en: (n: string) => enMoney(n, { one: 'yuan', many: 'yuan' }) },
  usd: {
    zh: (n: string) => `${zhCardinal(amount(n))}美元`,
    en: (n: string) => enMoney(n, { one: 'dollar', many: 'dollars', cent: { one: 'cent', many: 'cents' } }),
  },
  eur: {
    zh: (n: string) => `${zhCardinal(amount(n))}欧元`,
    en: (n: string) => enMoney(n, { one: 'euro', many: 'euros', cent: { one: 'cent', many: 'cents' } }),
  },
  gbp: {
    zh: (n: string) => `${zhCardinal(amount(n))}英镑`,
    en: (n: string) => enMoney(n, { one: 'pound', many: 'pounds', cent: { one: 'penny', many: 'pence' } }),
  },
} as const;
const CURRENCY: Record<string, keyof typeof money> = {
  '¥': 'cny',
  '￥': 'cny',
  CNY: 'cny',
  RMB: 'cny',
  $: 'usd',
  USD: 'usd',
  '€': 'eur',
  EUR: 'eur',
  '£': 'gbp',
  GBP: 'gbp',
};

/** Unit → [Mandarin, English singular, English plural]. */
const UNITS: Record<string, [string, string, string]> = {
  'km/h': ['公里每小时', 'kilometer per hour', 'kilometers per hour'],
  'm/s': ['米每秒', 'meter per second', 'meters per second'],
  '°C': ['摄氏度', 'degree Celsius', 'degrees Celsius'],
  '℃': ['摄氏度', 'degree Celsius', 'degrees Celsius'],
  '°F': ['华氏度', 'degree Fahrenheit', 'degrees Fahrenheit'],
  km: ['公里', 'kilometer', 'kilometers'],
  kg: ['公斤', 'kilogram', 'kilograms'],
  mg: ['毫克', 'milligram', 'milligrams'],
  cm: ['厘米', 'centimeter', 'centimeters'],
  mm: ['毫米', 'millimeter', 'millimeters'],
  ml: ['毫升', 'milliliter', 'milliliters'],
  mL: ['毫升', 'milliliter', 'milliliters'],
  kW: ['千瓦', 'kilowatt', 'kilowatts'],
  kHz: ['千赫', 'kilohertz', 'kilohertz'],
  MHz: ['兆赫', 'megahertz', 'megahertz'],
  GHz: ['吉赫', 'gigahertz', 'gigahertz'],
  Hz: ['赫兹', 'hertz', 'hertz'],
  TB: ['TB', 'terabyte', 'terabytes'],
  GB: ['GB', 'gigabyte', 'gigabytes'],
  MB: ['MB', 'megabyte', 'megabytes'],
  KB: ['KB', 'kilobyte', 'kilobytes'],
  kb: ['KB', 'kilobyte', 'kilobytes'],
  g: ['克', 'gram', 'grams'],
  m: ['米', 'meter', 'meters'],
  L: ['升', 'liter', 'liters'],
  W: ['瓦', 'watt', 'watts'],
};
const UNIT_ALT = Object.keys(UNITS)
  .sort((a, b) => b.length - a.length)
  .map((u) => u.replace(/[/.]/g, '\\$&'))
  .join('|');

const ABBREVIATIONS: Record<string, string> = {
  'Dr.': 'Doctor',
  'Mr.': 'Mister',
  'Mrs.': 'Missus',
  'Ms.': 'Miz',
  'Prof.': 'Professor',
  'St.': 'Street',
  'Ave.': 'Avenue',
  'Rd.': 'Road',
  'Jr.': 'Junior',
  'Sr.': 'Senior',
  'etc.': 'et cetera',
  'e.g.': 'for example',
  'i.e.': 'that is',
  'vs.': 'versus',
  'approx.': 'approximately',
  'Inc.': 'Incorporated',
  'Ltd.': 'Limited',
  'Co.': 'Company',
  'Dept.': 'Department',
  'Jan.': 'January',
  'Feb.': 'February',
  'Mar.': 'March',
  'Apr.': 'April',
  'Aug.': 'August',
  'Sept.': 'September',
  'Sep.': 'September',
  'Oct.': 'October',
  'Nov.': 'November',
  'Dec.': 'December',
  'Mon.': 'Monday',
  'Tue.': 'Tuesday',
  'Wed.': 'Wednesday',
  'Thu.': 'Thursday',
  'Fri.': 'Friday',
  'Sat.': 'Saturday',
  'Sun.': 'Sunday',
};
const ABBREV_ALT = Object.keys(ABBREVIATIONS)
  .map((a) => a.replace(/\./g, '\\.'))
  .join('|');

const validDate = (m: number, d: number) => m >= 1 && m <= 12 && d >= 1 && d <= 31;

function zhTime(h: string, m: string, s: string | undefined): string {
  const mm = Number(m);
  let out = `${zhCardinal(String(Number(h)))}点`;
  if (mm > 0 || s) out += `${mm > 0 && mm < 10 ? '零' : ''}${zhCardinal(String(mm))}分`;
  if (s && Number(s) > 0) out += `${zhCardinal(String(Number(s)))}秒`;
  return out;
}

function enTime(h: string, m: string, s: string | undefined, ampm: string | undefined): string {
  const mm = Number(m);
  let out = enCardinal(String(Number(h)));
  out += mm === 0 ? (ampm ? '' : " o'clock") : mm < 10 ? ` oh ${enCardinal(String(mm))}` : ` ${enCardinal(String(mm))}`;
  if (s && Number(s) > 0) out += ` and ${enCardinal(String(Number(s)))} seconds`;
  if (ampm) out += ampm.toLowerCase().startsWith('a') ? ' a.m.' : ' p.m.';
  return out;
}

/** Digit groups as written; an unbroken mobile number is read 3-4-4 (138 0013 8000), as people say it. */
function phoneGroups(number: string): string[] {
  return number
    .split(/[^\d]+/)
    .filter((g) => g.length > 0)
    .flatMap((g) => (g.length === 11 ? [g.slice(0, 3), g.slice(3, 7), g.slice(7)] : [g]));
}

function enFraction(a: string, b: string): string {
  const n = Number(a);
  const d = Number(b);
  if (d === 2) return `${enCardinal(a)} ${n === 1 ? 'half' : 'halves'}`;
  if (d === 4) return `${enCardinal(a)} ${n === 1 ? 'quarter' : 'quarters'}`;
  if (d > 2 && d <= 20) return `${enCardinal(a)} ${enOrdinal(d)}${n === 1 ? '' : 's'}`;
  return `${enCardinal(a)} over ${enCardinal(b)}`;
}

const OPS: Record<string, [string, string]> = { '+': ['加', 'plus'], '×': ['乘', 'times'], '÷': ['除以', 'divided by'], '=': ['等于', 'equals'] };

export const SPEECH_RULES: readonly SpeechRule[] = [
  {
    name: 'date',
    pattern: /(?<![\d.])(?<y>\d{4})(?<sep>[-/.])(?<m>\d{1,2})\k<sep>(?<d>\d{1,2})(?![\d])/g,
    read: {
      zh: (g) =>
        validDate(Number(g.m), Number(g.d))
          ? `${zhDigits(g.y!, { year: true })}年${zhCardinal(String(Number(g.m)))}月${zhCardinal(String(Number(g.d)))}日`
          : undefined,
      en: (g) => (validDate(Number(g.m), Number(g.d)) ? `${MONTHS[Number(g.m) - 1]} ${enOrdinal(Number(g.d))}, ${enYear(Number(g.y))}` : undefined),
    },
  },
  {
    name: 'year',
    pattern: /(?<![\d.])(?<y>\d{4})(?=年)/g,
    only: 'zh',
    read: { zh: (g) => zhDigits(g.y!, { year: true }), en: () => undefined },
  },
  {
    name: 'time',
    pattern: /(?<![\d:.])(?<h>[01]?\d|2[0-3]):(?<m>[0-5]\d)(?::(?<s>[0-5]\d))?(?![\d:])(?:\s?(?<ampm>[ap]\.?m\.?)(?![a-z]))?/gi,
    read: {
      zh: (g) => (g.ampm ? `${/^a/i.test(g.ampm) ? '上午' : '下午'}` : '') + zhTime(g.h!, g.m!, g.s),
      en: (g) => enTime(g.h!, g.m!, g.s, g.ampm),
    },
  },
  {
    name: 'hour',
    pattern: /(?<![\d:.])(?<h>1[0-2]|0?[1-9])\s?(?<ampm>[ap]\.?m\.?)(?![a-z])/gi,
    read: {
      zh: (g) => `${/^a/i.test(g.ampm!) ? '上午' : '下午'}${zhCardinal(String(Number(g.h)))}点`,
      en: (g) => `${enCardinal(String(Number(g.h)))} ${/^a/i.test(g.ampm!) ? 'a.m.' : 'p.m.'}`,
    },
  },
  {
    name: 'phone',
    pattern: /(?<![\d+])(?:(?<intl>\+\d{1,3}[ -]?)?(?:1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}-\d{7,8}|\(\d{3}\)\s?\d{3}-\d{4}|\d{3}-\d{3}-\d{4}))(?![\d])/g,
    read: {
      zh: (g, match) =>
        (g.intl ? '加' : '') +
        phoneGroups(match)
          .map((d) => zhDigits(d, { phone: true }))
          .join('，'),
      en: (g, match) => (g.intl ? 'plus ' : '') + phoneGroups(match).map(enDigits).join(', '),
    },
  },
  {
    name: 'money',
    pattern: new RegExp(String.raw`(?<sym>[¥￥$€£]|\b(?:CNY|RMB|USD|EUR|GBP)\b)\s?(?<n>${NUM})|(?<n2>${NUM})\s?(?<code>(?:CNY|RMB|USD|EUR|GBP)\b)`, 'g'),
    read: {
      zh: (g) => money[CURRENCY[(g.sym ?? g.code)!]!].zh((g.n ?? g.n2)!),
      en: (g) => money[CURRENCY[(g.sym ?? g.code)!]!].en((g.n ?? g.n2)!),
    },
  },
  {
    name: 'percent',
    pattern: new RegExp(String.raw`(?<neg>-)?(?<n>${NUM})\s?[%％]`, 'g'),
    read: { zh: (g) => `百分之${g.neg ? '负' : ''}${zhCardinal(g.n!)}`, en: (g) => `${g.neg ? 'minus ' : ''}${enCardinal(g.n!)} percent` },
  },
  {
    name: 'unit',
    pattern: new RegExp(String.raw`(?<![\w.])(?<n>${NUM})\s?(?<u>${UNIT_ALT})(?![\p{L}\d])`, 'gu'),
    read: {
      zh: (g) => `${zhCardinal(g.n!)}${UNITS[g.u!]![0]}`,
      en: (g) => `${enCardinal(g.n!)} ${UNITS[g.u!]![g.n === '1' ? 1 : 2]}`,
    },
  },
  {
    name: 'fraction',
    pattern: /(?<![\d/.])(?<a>\d{1,3})\/(?<b>\d{1,3})(?![\d/])/g,
    read: { zh: (g) => `${zhCardinal(g.b!)}分之${zhCardinal(g.a!)}`, en: (g) => enFraction(g.a!, g.b!) },
  },
  {
    name: 'abbreviation',
    pattern: new RegExp(String.raw`(?<![\p{L}.])(?<a>${ABBREV_ALT})(?=\s|$)|(?<![\p{L}.])No\.(?=\s?[\p{N}\p{Script=Han}])`, 'gu'),
    only: 'en',
    read: { zh: () => undefined, en: (g) => (g.a ? ABBREVIATIONS[g.a]! : 'number') },
  },
  {
    name: 'ordinal',
    pattern: /(?<![\d.])(?<n>\d+)(?:st|nd|rd|th)\b/g,
    only: 'en',
    read: { zh: () => undefined, en: (g) => enOrdinal(Number(g.n)) },
  },
  {
    name: 'two-of',
    pattern: /(?<![\d.])2(?=[个位只本张条件次天岁双对])/g,
    only: 'zh',
    read: { zh: () => '两', en: () => undefined },
  },
  {
    name: 'range',
    pattern: new RegExp(String.raw`(?<=\d)\s?[~～–-]\s?(?=\d)`, 'g'),
    read: { zh: () => '到', en: () => ' to ' },
  },
  {
    name: 'operator',
    pattern: /(?<=\d)\s?(?<op>[+×÷=])\s?(?=[\d-])/g,
    read: { zh: (g) => OPS[g.op!]![0], en: (g) => ` ${OPS[g.op!]![1]} ` },
  },
  {
    name: 'number',
    pattern: new RegExp(String.raw`(?<neg>(?<=^|[\s(（:：,，])-)?(?<![\d.])(?<n>${NUM})(?![\d])`, 'g'),
    read: { zh: (g) => zhCardinal((g.neg ?? '') + g.n!), en: (g) => enCardinal((g.neg ?? '') + g.n!) },
  },
  {
    name: 'ampersand',
    pattern: /\s?&\s?/g,
    read: { zh: () => '和', en: () => ' and ' },
  },
];
