// Instructions per gateway message, counted by valgrind's callgrind in each server process: the
// machine-independent view of what bench/ws-throughput.js measures in seconds (whose rounds moved
// by 40% in CPU per message on the same server here). Same servers (bench/lib/ws-bench-server.js)
// and patterns: bare = Nest without the session module; raw = the module, plain IoAdapter;
// session = SessionIoAdapter. Each server runs under callgrind; after a warm-up its counters are
// zeroed, a fixed number of acked messages is sent, and the counters are dumped.
// Usage: npm run bench -- ws-instructions [--messages 5000] [--warmup 20000] [--repeats 3] [--variants bare,raw,session]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachUnderCallgrind } from './lib/callgrind.js';
import { flags, median, printTable } from './lib/processes.js';
import { openSockets, sendAcked } from './lib/ws-clients.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, 'lib/ws-bench-server.js');
const options = flags({ messages: 5000, warmup: 20000, repeats: 3, variants: 'bare,raw,session' });
const PATTERNS = [
  { name: 'echo, 1 socket, 50 in flight', sockets: 1, inFlight: 50, event: 'echo' },
  { name: 'echo, 50 sockets, 1 in flight each', sockets: 50, inFlight: 1, event: 'echo' },
  { name: 'reads @Session(), 1 socket, 50 in flight', sockets: 1, inFlight: 50, event: 'whoami', sessionOnly: true },
];

export async function runWsInstructions() {
  const counts = {}; // "variant | pattern" -> [instructions per message, per repeat]
  const argsFor = (variant, port, redisUrl) => [variant, String(port), redisUrl];
  await eachUnderCallgrind(SERVER, options.variants.split(','), argsFor, async (variant, server, base) => {
    for (const pattern of PATTERNS) {
      if (pattern.sessionOnly && variant !== 'session') continue;
      const sockets = await openSockets(base, pattern.sockets, variant !== 'bare', 60_000);
      try {
        await sendAcked(sockets, pattern.inFlight, pattern.event, options.warmup);
        const samples = (counts[`${variant} | ${pattern.name}`] = []);
        for (let repeat = 0; repeat < options.repeats; repeat++) {
          samples.push(await server.count(() => sendAcked(sockets, pattern.inFlight, pattern.event, options.messages)));
        }
        process.stderr.write(`  ${variant} ${pattern.name}: ${samples.map((n) => Math.round(n / 1000)).join(', ')} k instructions/message\n`);
      } finally {
        for (const socket of sockets) socket.close();
      }
    }
  });
  const of = (name) => (counts[name] ? median(counts[name]) : undefined);
  const rows = Object.entries(counts).map(([name, samples]) => {
    const [variant, pattern] = name.split(' | ');
    const raw = of(`raw | ${pattern.startsWith('reads') ? PATTERNS[0].name : pattern}`);
    return [
      `${variant}: ${pattern}`,
      Math.round(median(samples) / 1000),
      `${Math.round(Math.min(...samples) / 1000)}-${Math.round(Math.max(...samples) / 1000)}`,
      raw && variant !== 'raw' ? (raw / median(samples)).toFixed(2) : '',
    ];
  });
  console.log(
    `\nInstructions per gateway message (callgrind; ${options.messages} messages x ${options.repeats} after ${options.warmup} of warm-up; median and range in thousands; x raw is the throughput a CPU-bound server would reach against the raw gateway, the inverse of the counts; a reading handler is compared with the raw echo)`,
  );
  printTable(['server: pattern', 'k instr/msg', 'range', 'x raw'], rows);
  return { options, counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = await runWsInstructions();
  writeResults('ws-instructions', summary);
  process.exit(0);
}
