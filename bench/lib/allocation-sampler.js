// Preloaded into a bench server (node --import): the first SIGUSR2 starts V8's sampling heap
// profiler, counting every allocation, also those collected since (a request's garbage is what it
// costs), one sample per $ALLOCATION_SAMPLING_BYTES on average; the second stops it and writes the
// profile to $ALLOCATION_PROFILE. Used by bench/route-profile.js --measure allocations.
import { Session } from 'node:inspector';
import { renameSync, writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
let sampling = false;

process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', {
      samplingInterval: Number(process.env.ALLOCATION_SAMPLING_BYTES),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) throw error;
    // Renamed into place, so that the bench never reads a file half written.
    const file = process.env.ALLOCATION_PROFILE;
    writeFileSync(`${file}.partial`, JSON.stringify(result.profile));
    renameSync(`${file}.partial`, file);
  });
});
