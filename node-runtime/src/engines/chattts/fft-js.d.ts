// fft.js ships no types; only what istft.ts uses is declared.
declare module 'fft.js' {
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    createComplexArray(): number[];
    /** data and out are interleaved [re, im, …] of length 2·size; the result is scaled by 1/size. */
    inverseTransform(out: number[], data: number[]): void;
    transform(out: number[], data: number[]): void;
  }
}
