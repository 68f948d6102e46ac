/**
 * The text front end on a table of cases: what a Mandarin and an English listener expect to hear
 * for digits, dates, times, money, percentages, phone numbers, units and abbreviations.
 */
import { describe, expect, it } from 'vitest';
import { normalizeForSpeech } from '../../node-runtime/src/text/normalize.ts';
import { splitLatinRuns } from '../../node-runtime/src/text/latin-runs.ts';

const ZH: [string, string][] = [
  ['123', '一百二十三'],
  ['10', '十'],
  ['1005', '一千零五'],
  ['100000000', '一亿'],
  ['3.14', '三点一四'],
  ['负数 -5', '负数 负五'],
  ['1,234,567人', '一百二十三万四千五百六十七人'],
  ['2026-12-03', '二〇二六年十二月三日'],
  ['2026/12/3', '二〇二六年十二月三日'],
  ['2026年12月3日', '二〇二六年十二月三日'],
  ['15:30', '十五点三十分'],
  ['9:00', '九点'],
  ['8:05:09', '八点零五分九秒'],
  ['3pm', '下午三点'],
  ['¥38', '三十八元'],
  ['￥38.50', '三十八元五角'],
  ['￥0.05', '五分'],
  ['$20', '二十美元'],
  ['$12.50', '十二点五美元'],
  ['€3.00', '三欧元'],
  ['50%', '百分之五十'],
  ['3.5％', '百分之三点五'],
  ['13800138000', '幺三八，零零幺三，八零零零'],
  ['010-12345678', '零幺零，幺二三四五六七八'],
  ['25℃', '二十五摄氏度'],
  ['120km/h', '一百二十公里每小时'],
  ['5kg', '五公斤'],
  ['2个苹果', '两个苹果'],
  ['1/2', '二分之一'],
  ['3-5天', '三到五天'],
  ['1+1=2', '一加一等于二'],
  ['会议在2026-12-03 15:30，门票¥38，打50%折。', '会议在二〇二六年十二月三日 十五点三十分，门票三十八元，打百分之五十折。'],
];

const EN: [string, string][] = [
  ['123', 'one hundred twenty-three'],
  ['3.14', 'three point one four'],
  ['-5 degrees', 'minus five degrees'],
  ['1,234,567', 'one million two hundred thirty-four thousand five hundred sixty-seven'],
  ['007', 'zero zero seven'],
  ['2026-12-03', 'December third, twenty twenty-six'],
  ['2005-01-31', 'January thirty-first, two thousand five'],
  ['15:30', 'fifteen thirty'],
  ['9:00', "nine o'clock"],
  ['3:05 pm', 'three oh five p.m.'],
  ['at 3 pm', 'at three p.m.'],
  ['¥38', 'thirty-eight yuan'],
  ['$12.50', 'twelve dollars and fifty cents'],
  ['$1', 'one dollar'],
  ['€3.5', 'three euros and fifty cents'],
  ['£2.01', 'two pounds and one penny'],
  ['100 RMB', 'one hundred yuan'],
  ['¥38.50', 'thirty-eight point five yuan'],
  ['$5.00', 'five dollars'],
  ['50%', 'fifty percent'],
  ['(555) 123-4567', 'five five five, one two three, four five six seven'],
  ['+86 138 0013 8000', 'plus eight six, one three eight, zero zero one three, eight zero zero zero'],
  ['25°C', 'twenty-five degrees Celsius'],
  ['1 kg', 'one kilogram'],
  ['3.5 GB', 'three point five gigabytes'],
  ['21st', 'twenty-first'],
  ['Dr. Smith', 'Doctor Smith'],
  ['No. 5', 'number five'],
  ['e.g. this', 'for example this'],
  ['3/4', 'three quarters'],
  ['1+1=2', 'one plus one equals two'],
  ['A & B', 'A and B'],
];

describe('normalizeForSpeech', () => {
  it.each(ZH)('zh: %s → %s', (text, spoken) => expect(normalizeForSpeech(text, 'zh')).toBe(spoken));
  it.each(EN)('en: %s → %s', (text, spoken) => expect(normalizeForSpeech(text, 'en')).toBe(spoken));

  it('reads each number in the language of the words around it when the pack speaks both', () => {
    expect(normalizeForSpeech('Please call 张伟 at 3 pm, 北京 building 3.', ['zh', 'en'])).toBe('Please call 张伟 at three p.m., 北京 building three.');
    expect(normalizeForSpeech('我有3个苹果 and 4 pears', ['zh', 'en'])).toBe('我有三个苹果 and four pears');
    expect(normalizeForSpeech('50%', ['zh', 'en'])).toBe('百分之五十');
  });

  it('leaves text with nothing to expand, and languages it has no rules for, unchanged', () => {
    expect(normalizeForSpeech('你好，欢迎使用语音合成服务。', 'zh')).toBe('你好，欢迎使用语音合成服务。');
    expect(normalizeForSpeech('Hello there.', 'en')).toBe('Hello there.');
    expect(normalizeForSpeech('123', 'ja')).toBe('123');
    // Not a date (month 13): read as numbers, never as an invented month.
    expect(normalizeForSpeech('2026-13-45', 'en')).toBe('two thousand twenty-six to thirteen to forty-five');
  });
});

describe('splitLatinRuns', () => {
  it('splits Latin words from the rest, keeping every character once', () => {
    const runs = splitLatinRuns('Please call 张伟 at 3 pm.');
    expect(runs).toEqual([
      { latin: true, text: 'Please call ' },
      { latin: false, text: '张伟 ' },
      { latin: true, text: 'at 3 pm.' },
    ]);
    expect(runs.map((r) => r.text).join('')).toBe('Please call 张伟 at 3 pm.');
  });
});
