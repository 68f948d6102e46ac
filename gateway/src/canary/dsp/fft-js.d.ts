// fft.js ships no types; only what the mel filterbank uses is declared.
declare module 'fft.js' {
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    createComplexArray(): number[];
    /** Real input of length `size`; output interleaved [re, im, …] (only the first half is filled). */
    realTransform(out: number[], data: ArrayLike<number>): void;
    completeSpectrum(out: number[]): void;
    transform(out: number[], data: number[]): void;
    inverseTransform(out: number[], data: number[]): void;
  }
}
