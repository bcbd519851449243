// Imported first by each app's main.ts: the cap must be in place before loading the
// module graph runs the first full GCs, or the first limit V8 sets after them keeps its
// own 4x growth (a paired probe peaked ~10 MB higher with the cap applied after start-up).
// A bad value is left to ServiceRuntime.open, which stops the start naming the variable
// (it only checks: the flag is set here, once).
import { applyHeapGrowth } from './heap-growth';

applyHeapGrowth(process.env);
