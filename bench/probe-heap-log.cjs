// Loaded into a process under `bench/probe.mjs --heap` (node --require): every 100 ms it
// appends one JSON line to $AIGW_PROBE_HEAP_LOG with the V8 heap by space, V8's own
// malloc'ed memory (mostly compiler zones) and the garbage collections so far, so a peak
// RSS can be split into what V8 holds and what lies outside it.
'use strict';
const { openSync, writeSync } = require('node:fs');
const v8 = require('node:v8');
const { PerformanceObserver, constants } = require('node:perf_hooks');

const file = process.env.AIGW_PROBE_HEAP_LOG;
if (file) {
  const fd = openSync(file, 'a');
  const gcs = { minor: 0, major: 0, minorMs: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gcs.major++;
        gcs.majorMs += entry.duration;
      } else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gcs.minor++;
        gcs.minorMs += entry.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  const mb = (bytes) => Math.round(bytes / 1048576);
  setInterval(() => {
    const heap = v8.getHeapStatistics();
    const spaces = {};
    for (const space of v8.getHeapSpaceStatistics()) {
      if (space.space_size > 0)
        spaces[space.space_name.replace(/_space$/, '')] = mb(space.space_size);
    }
    const { external, arrayBuffers } = process.memoryUsage();
    const line = {
      t: Date.now(),
      heap: mb(heap.total_heap_size),
      used: mb(heap.used_heap_size),
      spaces,
      external: mb(external),
      arrayBuffers: mb(arrayBuffers),
      malloced: mb(heap.malloced_memory),
      peakMalloced: mb(heap.peak_malloced_memory),
      gcs: { ...gcs, minorMs: Math.round(gcs.minorMs), majorMs: Math.round(gcs.majorMs) },
    };
    writeSync(fd, `${JSON.stringify(line)}\n`);
  }, 100).unref();
}
