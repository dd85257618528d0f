// Preloaded into the CLI by test/emulator/cli-heap.int.test.ts: once the banner is written (the CLI's own start-up,
// its V8 settings included, is done), keeps 200,000 objects alive, allocates 200 rounds of short-lived garbage,
// writes `PEAK <MB>` (the highest heapTotal) to stderr and exits.
const write = process.stdout.write.bind(process.stdout);
let started = false;
process.stdout.write = (chunk, ...rest) => {
  if (!started && String(chunk).includes('Control plane')) {
    started = true;
    setImmediate(churn);
  }
  return write(chunk, ...rest);
};

function churn() {
  const keep = [];
  for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
  let peak = 0;
  for (let round = 0; round < 200; round++) {
    const garbage = [];
    for (let i = 0; i < 50_000; i++) garbage.push({ round, i, a: [i] });
    peak = Math.max(peak, process.memoryUsage().heapTotal);
  }
  process.stderr.write(`PEAK ${Math.round(peak / 1048576)} ${keep.length}\n`);
  process.exit(0);
}
