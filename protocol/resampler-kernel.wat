;; The resampler's inner loop (protocol/resampler.ts) in WebAssembly SIMD: output i is the dot
;; product of `width` input samples starting at input index `from` with filter phase `phase`'s
;; row of taps, clamped to PCM16 and rounded half up (as Math.round). Two f64x2 accumulators:
;; each output is a fixed function of its inputs and phase, so any chunking gives the same
;; samples. Compiled to protocol/resampler-kernel.ts by `npx tsx tools/build-resampler-kernel.ts`.
(module
  (memory (export "memory") 1)
  ;; taps: phase rows of `width` f64; input: f64 samples, output i's window starts at `from`;
  ;; out: `count` i16. `width` is even. Returns nothing; the caller knows where it stopped.
  (func (export "produce")
    (param $taps i32) (param $input i32) (param $out i32) (param $count i32)
    (param $phase i32) (param $l i32) (param $m i32) (param $width i32)
    (local $i i32) (local $j i32) (local $row i32) (local $at i32) (local $whole i32)
    (local $a0 v128) (local $a1 v128) (local $acc f64)
    ;; the part of a row a two-vector step covers
    (local.set $whole (i32.and (local.get $width) (i32.const -4)))
    (local.set $at (local.get $input))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $row
          (i32.add (local.get $taps) (i32.shl (i32.mul (local.get $phase) (local.get $width)) (i32.const 3))))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $a1 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $row_done
          (loop $step
            (br_if $row_done (i32.ge_u (local.get $j) (local.get $whole)))
            (local.set $a0
              (f64x2.add (local.get $a0)
                (f64x2.mul
                  (v128.load align=8 (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 3))))
                  (v128.load align=8 (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))))))
            (local.set $a1
              (f64x2.add (local.get $a1)
                (f64x2.mul
                  (v128.load offset=16 align=8 (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 3))))
                  (v128.load offset=16 align=8 (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $step)))
        ;; a width of 4k + 2: its last pair
        (if (i32.lt_u (local.get $j) (local.get $width))
          (then
            (local.set $a0
              (f64x2.add (local.get $a0)
                (f64x2.mul
                  (v128.load align=8 (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 3))))
                  (v128.load align=8 (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))))))))
        (local.set $a0 (f64x2.add (local.get $a0) (local.get $a1)))
        (local.set $acc (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
        ;; clamp to PCM16, then round half up: floor(x + 0.5) is Math.round for every x here
        (local.set $acc
          (f64.floor
            (f64.add (f64.min (f64.max (local.get $acc) (f64.const -32768)) (f64.const 32767)) (f64.const 0.5))))
        (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 1))) (i32.trunc_f64_s (local.get $acc)))
        ;; the next output's phase; each wrap moves its window one input sample on
        (local.set $phase (i32.add (local.get $phase) (local.get $m)))
        (block $wrapped
          (loop $wrap
            (br_if $wrapped (i32.lt_u (local.get $phase) (local.get $l)))
            (local.set $phase (i32.sub (local.get $phase) (local.get $l)))
            (local.set $at (i32.add (local.get $at) (i32.const 8)))
            (br $wrap)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
