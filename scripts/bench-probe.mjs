// Preloaded into a server the bench starts (node --import ./scripts/bench-probe.mjs …) when it
// is spawned with an IPC channel. The bench asks, over that channel, at points it chooses:
//   { probe: 'reset' } → peaks and the event-loop histogram start over; answers { probe: 'reset', rssBytes }
//                        (with `hiwater: true`, on Linux, the kernel's peak RSS starts over too:
//                        maxRssBytes is then the exact peak since this reset, not since the start)
//   { probe: 'read' }  → answers { probe: 'stats', rssPeakBytes, maxRssBytes, eld: { p50Ms, p99Ms, maxMs, samples } }
// Its cost: a 10 ms libuv timer (the histogram's) and a 10 ms unref'd interval reading RSS —
// nothing runs per request.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

if (process.send) {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let rssPeak = process.memoryUsage.rss();
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
  };
  setInterval(sample, RESOLUTION_MS).unref();

  // The histogram records the whole interval between ticks: the delay is what exceeds the tick.
  const delayMs = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

  process.on('message', (message) => {
    if (message?.probe === 'reset') {
      histogram.reset();
      if (message.hiwater) {
        try {
          writeFileSync('/proc/self/clear_refs', '5'); // VmHWM, and so getrusage's maxRSS, := the RSS now
        } catch {
          // not Linux: maxRssBytes stays the peak since the start
        }
      }
      rssPeak = process.memoryUsage.rss();
      process.send({ probe: 'reset', rssBytes: rssPeak });
    } else if (message?.probe === 'read') {
      sample();
      process.send({
        probe: 'stats',
        rssPeakBytes: rssPeak,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        eld: {
          p50Ms: delayMs(histogram.percentile(50)),
          p99Ms: delayMs(histogram.percentile(99)),
          maxMs: delayMs(histogram.max),
          samples: histogram.count,
        },
      });
    }
  });
  // The open channel must not keep a server alive that was told to stop; a bench that died
  // (channel closed) leaves no server behind.
  process.channel?.unref();
  process.on('disconnect', () => process.exit(0));
}
