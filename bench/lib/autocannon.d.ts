/** autocannon ships no types; the runner uses a small, explicitly cast subset of its result. */
declare module 'autocannon' {
  function autocannon(options: Record<string, unknown>): Promise<unknown>;
  export default autocannon;
}
